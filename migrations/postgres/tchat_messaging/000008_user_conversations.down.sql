DROP FUNCTION msg_user_conversations(uuid);
