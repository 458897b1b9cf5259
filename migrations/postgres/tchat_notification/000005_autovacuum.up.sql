-- Autovacuum settings of the inbox and the delivery queue (issue 22;
-- docs/operations/data-scale.md, "Autovacuum of the append-heavy tables").
--
-- notifications grows by an entry per transfer received (5,000,000 at the
-- benchmark's 100 %) and its rows are updated once more when read (read_at): dead
-- rows as well as inserts. With the defaults a vacuum starts after 20 % new or
-- dead rows and an ANALYZE after 10 %: 1,000,000 and 500,000 rows at that size. 2 %
-- (plus a fixed 50,000 rows, so that a small table is not vacuumed for every few
-- hundred rows) keeps both to ~150,000.
ALTER TABLE notifications SET (autovacuum_vacuum_insert_scale_factor = 0.02,
                               autovacuum_vacuum_insert_threshold = 50000,
                               autovacuum_vacuum_scale_factor = 0.02,
                               autovacuum_vacuum_threshold = 50000,
                               autovacuum_analyze_scale_factor = 0.02);

-- Every delivery_queue row is updated while it is sent and deleted once done: it
-- is all dead rows, as an outbox's, so a pass after 1 % dead (plus 1,000).
ALTER TABLE delivery_queue SET (autovacuum_vacuum_scale_factor = 0.01,
                                autovacuum_vacuum_threshold = 1000);
