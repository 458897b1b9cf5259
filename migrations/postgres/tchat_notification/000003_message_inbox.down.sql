-- Message entries stay (as ordinary entries); only the schema of 000003 goes.
CREATE INDEX IF NOT EXISTS notifications_user_idx ON notifications (user_id, id DESC);
DROP INDEX IF EXISTS notifications_user_created_idx;
DROP INDEX IF EXISTS notifications_message_unread_idx;
ALTER TABLE notifications DROP COLUMN IF EXISTS render;
