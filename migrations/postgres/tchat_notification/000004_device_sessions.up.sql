-- A push device belongs to the auth session that registered it (the access
-- token's sid): when that session ends (auth.session.revoked: logout,
-- revocation) its devices are removed. NULL for devices registered before.
ALTER TABLE devices ADD COLUMN session_id uuid NULL;
CREATE INDEX devices_session_idx ON devices (session_id) WHERE session_id IS NOT NULL;
