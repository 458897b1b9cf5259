-- bench/search_bench.sh's data: :conversations group conversations of 50 messages
-- each, messages of all conversations interleaved in time (ids ascending with
-- seq * conversations + n), text generated in six languages (Thai without spaces),
-- search_terms left NULL for tchat-search-reindex. One user,
-- 00000000-0000-7000-8000-000000000001, is a member of conversations 1..200.

CREATE TABLE bench_lex (lang int PRIMARY KEY, sep text, unit text, words text[]);
INSERT INTO bench_lex VALUES
 (0, '', 'บาท', ARRAY['ร้าน','กาแฟ','อาหาร','บ้าน','พรุ่งนี้','เจอ','กัน','ที่','ไป','กิน','ข้าว',
   'โอน','เงิน','แล้ว','นะ','ครับ','ค่ะ','วันนี้','ทำงาน','ประชุม','รถ','ติด','มาก','ขอบคุณ',
   'สวัสดี','เย็น','นี้','ว่าง','ไหม','ตลาด','ซื้อ','ของ','ให้','แม่','เพื่อน','โทร','หา','ด้วย']),
 (1, ' ', 'đồng', ARRAY['tối','nay','mình','đi','ăn','phở','bò','cơm','tấm','cà','phê','sữa','đá',
   'ở','đâu','nhé','cảm','ơn','bạn','nhiều','hẹn','gặp','lại','ngày','mai','chuyển','tiền','rồi',
   'anh','chị','em','được','không','đường','quán','nhà']),
 (2, ' ', 'rupiah', ARRAY['besok','kita','ngopi','di','kopi','kenangan','jam','ya','sudah','bayar',
   'terima','kasih','makan','siang','rapat','kantor','macet','banget','nanti','sore','aku','kamu',
   'mau','ke','mana','transfer','uang','tolong']),
 (3, ' ', 'ringgit', ARRAY['saya','sudah','bayar','untuk','tiket','bas','ke','johor','bahru','jumpa',
   'esok','makan','nasi','lemak','terima','kasih','boleh','tak','kopi','kedai','mamak','awak',
   'nanti','malam']),
 (4, ' ', 'piso', ARRAY['salamat','po','sa','tulong','kumain','ka','na','ba','tara','kain','tayo',
   'jollibee','bukas','ulit','mamaya','pasok','trabaho','ikaw','ako','padala','pera','ingat']),
 (5, ' ', 'dollars', ARRAY['meet','at','the','the','the','mrt','station','tomorrow','lunch','coffee',
   'sent','you','money','thanks','see','later','running','late','traffic','meeting','dinner',
   'tonight','road','a','to','is','for','on','my','way','ok','sure']);

CREATE FUNCTION bench_sentence(l int) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT string_agg(x.words[1 + floor(random() * array_length(x.words, 1))::int], x.sep)
         || CASE WHEN random() < 0.05
                 THEN ' ' || (ARRAY['1,250', '25,000', '300', '1,000,000', '42.50'])[
                        1 + floor(random() * 5)::int] || ' ' || x.unit
                 ELSE '' END
         || CASE WHEN random() < 0.0005 THEN ' Bugis' ELSE '' END
    FROM bench_lex x CROSS JOIN generate_series(1, 3 + floor(random() * 12)::int)
   WHERE x.lang = l
   GROUP BY x.sep, x.unit
$$;

INSERT INTO conversations (id, type, title, created_by, last_seq)
SELECT md5('c' || n)::uuid, 'group', 'group ' || n, '00000000-0000-7000-8000-000000000001', 50
  FROM generate_series(1, :conversations) n;

INSERT INTO members (conversation_id, user_id, role)
SELECT md5('c' || n)::uuid,
       CASE WHEN n <= 200 THEN '00000000-0000-7000-8000-000000000001'::uuid
            ELSE md5('u' || (n % 50000))::uuid END, 'owner'
  FROM generate_series(1, :conversations) n;
INSERT INTO members (conversation_id, user_id, role)
SELECT md5('c' || n)::uuid, md5('v' || (n % 49999))::uuid, 'member'
  FROM generate_series(1, :conversations) n;

INSERT INTO messages (conversation_id, seq, id, sender_id, type, body, created_at, change_xid)
SELECT md5('c' || n)::uuid, s,
       (lpad(to_hex(s::bigint * :conversations + n), 12, '0') || '7000' || '8000'
        || substr(md5('m' || n || '.' || s), 1, 12))::uuid,
       '00000000-0000-7000-8000-000000000001', 'text',
       bench_sentence(((n * 7 + s) % 6)::int), now(), pg_current_xact_id()
  FROM generate_series(1, :conversations) n CROSS JOIN generate_series(1, 50) s;
