-- Account deletion (auth.user.deleted; docs/operations/account-deletion.md): what
-- messaging holds of a deleted user is removed or anonymised in one transaction,
-- recorded in processed_events so that a redelivered event changes nothing.
--
-- The rule, as other members see it afterwards:
--   * the user's text, photo, voice, video and file messages become tombstones,
--     as if the user had deleted each one (deleted = true, body and attachment
--     gone, no reactions, no search terms); their place, seq and time stay so
--     that replies and read positions still line up;
--   * the user's payment messages stay (they mirror the ledger, which is kept)
--     without their free text: the note is removed from body and payment;
--   * system messages stay (they carry no text the user wrote);
--   * the user's reactions on other people's messages are removed, and the
--     search vocabulary loses the terms only their messages had;
--   * the user leaves every conversation (a member_departures row, as a removal;
--     a group whose owner they were gets a new owner as on leaving); blocks by
--     or of the user go;
--   * their uploads that no remaining message carries are deleted (the URL
--     stops working at once: serving looks the row up); the files go with the
--     media sweeper once no row names their hash. An upload that someone else's
--     message still carries (a forward) stays with that message.
-- The sender id stays on the tombstones: auth no longer knows it, so clients
-- show it as a deleted account.
--
-- CONTRACT (the caller is ConversationStore::ForgetUser in
-- services/messaging/src/conversation_store.cpp): input the deleted user's
-- id and the event's id; answers one row (conversations, messages, media): the
-- conversations left, messages changed and uploads deleted, or (-1, 0, 0) when
-- the event was processed before.
CREATE FUNCTION msg_forget_user(gone uuid, event_id text)
RETURNS TABLE (conversations int, messages bigint, media int)
LANGUAGE plpgsql AS $$
DECLARE
    convs   uuid[];
    cid     uuid;
    n_msgs  bigint := 0;
    n_more  bigint;
    n_media int;
    terms   text[];
BEGIN
    INSERT INTO processed_events (consumer, event_id)
    VALUES ('messaging.account_deletion', event_id) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN QUERY SELECT -1, 0::bigint, 0;
        RETURN;
    END IF;
    -- Conversations in id order, locked as a send batch locks them.
    SELECT coalesce(array_agg(c.id ORDER BY c.id), '{}') INTO convs
      FROM conversations c
     WHERE c.id IN (SELECT m.conversation_id FROM members m WHERE m.user_id = gone);
    PERFORM 1 FROM conversations c WHERE c.id = ANY (convs) ORDER BY c.id FOR UPDATE;
    -- Their search terms, to drop those of search_vocab that no other message has.
    SELECT coalesce(array_agg(DISTINCT t), '{}') INTO terms
      FROM messages m, unnest(m.search_terms) AS t WHERE m.sender_id = gone;
    -- Messages may also lie in conversations the user already left.
    UPDATE messages m SET deleted = true, body = '', attachment = NULL, payment = NULL,
           reactions = '{}', search_terms = NULL, change_xid = pg_current_xact_id()
     WHERE m.sender_id = gone AND NOT m.deleted AND m.type NOT IN ('payment', 'system');
    GET DIAGNOSTICS n_msgs = ROW_COUNT;
    UPDATE messages m SET body = '', payment = m.payment - 'note',
           search_terms = NULL, change_xid = pg_current_xact_id()
     WHERE m.sender_id = gone AND m.type = 'payment'
       AND (m.body <> '' OR m.payment ? 'note');
    GET DIAGNOSTICS n_more = ROW_COUNT;
    n_msgs := n_msgs + n_more;
    -- Their reactions on others' messages (only where they were a member).
    UPDATE messages m SET reactions = coalesce((
               SELECT jsonb_object_agg(r.emoji, r.users)
                 FROM (SELECT e.key AS emoji,
                              (SELECT jsonb_agg(u) FROM jsonb_array_elements(e.value) u
                                WHERE u <> to_jsonb(gone::text)) AS users
                         FROM jsonb_each(m.reactions) e) r
                WHERE r.users IS NOT NULL), '{}'),
           change_xid = pg_current_xact_id()
     WHERE m.conversation_id = ANY (convs) AND m.reactions <> '{}'
       AND jsonb_path_exists(m.reactions, '$.*[*] ? (@ == $u)',
                             jsonb_build_object('u', gone::text));
    -- In term order, as writers insert them. A message sent at this very moment
    -- with a term removed here stays findable by that whole word; only the
    -- prefix expansion of its last word may miss it.
    DELETE FROM search_vocab v
     WHERE v.term IN (SELECT t FROM unnest(terms) AS t ORDER BY t COLLATE "C")
       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.search_terms @> ARRAY[v.term::text]);
    FOREACH cid IN ARRAY convs LOOP
        PERFORM msg_forget_member(cid, gone);
    END LOOP;
    DELETE FROM blocks WHERE blocker_id = gone OR blocked_id = gone;
    DELETE FROM media md WHERE md.owner_id = gone
       AND NOT EXISTS (SELECT 1 FROM media_refs r WHERE r.media_id = md.id);
    GET DIAGNOSTICS n_media = ROW_COUNT;
    RETURN QUERY SELECT cardinality(convs), n_msgs, n_media;
END $$;

-- Takes `gone` out of conversation `cid` (locked by the caller) as a removal
-- does (services/messaging/src/conversation_store.cpp, RemoveMember): an owner's
-- group gets the next owner (an admin first, then the longest member).
CREATE FUNCTION msg_forget_member(cid uuid, gone uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    old_role text;
BEGIN
    DELETE FROM members WHERE conversation_id = cid AND user_id = gone RETURNING role INTO old_role;
    IF old_role = 'owner' THEN
        UPDATE members SET role = 'owner' WHERE conversation_id = cid AND user_id = (
            SELECT user_id FROM members WHERE conversation_id = cid
             ORDER BY (role = 'admin') DESC, joined_at, user_id LIMIT 1);
    END IF;
    INSERT INTO member_departures (user_id, conversation_id, change_xid)
    VALUES (gone, cid, pg_current_xact_id())
    ON CONFLICT (user_id, conversation_id)
    DO UPDATE SET change_xid = EXCLUDED.change_xid, departed_at = now();
    UPDATE conversations SET change_xid = pg_current_xact_id() WHERE id = cid;
END $$;
