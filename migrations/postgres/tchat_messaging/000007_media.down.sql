DROP TRIGGER messages_media_detach_delete ON messages;
DROP TRIGGER messages_media_detach_update ON messages;
DROP TRIGGER messages_media_attach ON messages;
DROP FUNCTION media_detach();
DROP FUNCTION media_attach();
DROP TABLE media_refs;
DROP TABLE media;
ALTER TABLE messages DROP CONSTRAINT messages_type_check;
ALTER TABLE messages ADD CONSTRAINT messages_type_check
    CHECK (type IN ('text', 'image', 'file', 'payment', 'system'));
