-- Profile photos (docs/api/openapi.yaml, /v1/media/avatars; services/messaging/
-- README.md, "Avatars"): which of a user's uploads is their avatar.
--
-- The avatar is an ordinary image upload (POST /v1/media). Setting it marks the
-- upload attached (attached_at), so that once it is no longer the avatar and no
-- message carries it the media sweeper deletes it like any other upload; while
-- it is the avatar the sweeper leaves it (services/messaging/src/media_store.cpp).
-- A deleted upload takes its avatar row with it (ON DELETE CASCADE), and
-- account deletion (auth.user.deleted) deletes the user's row
-- (ConversationStore::ForgetUser).
CREATE TABLE avatars (
    user_id  uuid        PRIMARY KEY,
    media_id uuid        NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    set_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX avatars_media_idx ON avatars (media_id);
