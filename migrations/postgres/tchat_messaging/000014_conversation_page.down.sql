DROP FUNCTION msg_conversation_page(uuid, timestamptz, uuid, integer);
DROP TRIGGER conversations_activity ON conversations;
DROP TRIGGER members_activity ON members;
DROP FUNCTION msg_activity_moved();
DROP FUNCTION msg_activity_members_added();
DROP TABLE member_activity;
DROP FUNCTION msg_activity_hour(timestamptz);
