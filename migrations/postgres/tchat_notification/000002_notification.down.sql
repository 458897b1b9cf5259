DROP TABLE IF EXISTS poison_events;
DROP TABLE IF EXISTS dead_letters;
DROP TABLE IF EXISTS delivery_queue;
DROP TABLE IF EXISTS notifications;
DROP TABLE IF EXISTS muted_conversations;
DROP TABLE IF EXISTS notification_preferences;
DROP TABLE IF EXISTS devices;
DROP FUNCTION IF EXISTS rfc3339(timestamptz);
