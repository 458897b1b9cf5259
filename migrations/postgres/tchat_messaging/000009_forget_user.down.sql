DROP FUNCTION IF EXISTS msg_forget_user(uuid, text);
DROP FUNCTION IF EXISTS msg_forget_member(uuid, uuid);
