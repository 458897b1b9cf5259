DROP INDEX IF EXISTS devices_session_idx;
ALTER TABLE devices DROP COLUMN IF EXISTS session_id;
