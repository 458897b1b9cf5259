#pragma once

#include <string_view>

// The events the auth service publishes on kAuthStream (streams.hpp), with the
// fields of their `data` (docs/ARCHITECTURE.md, "Events between services").
// Producer: services/auth; consumers name the types by these constants.
// Header-only.
namespace tchat::events {

// {phone (E.164), country, locale, purpose ("sign_in" | "password"),
//  sealed_code, expires_in, expires_at}: an SMS to send. The code is never in
// plaintext: `sealed_code` is a libsodium sealed box (base64) to the
// notification service's key (tchat/core/sealed_box.hpp).
inline constexpr std::string_view kOtpRequested = "auth.otp.requested";

// {user_id, session_id (the session that made the change; null for a reset),
//  change ("set" | "changed" | "removed" | "reset")}: the user's password changed
// (or was removed) and every other session of theirs was revoked; the user is
// told on their devices.
inline constexpr std::string_view kPasswordChanged = "auth.password.changed";

// {user_id, session_id, reason ("logout" | "revoked" | "refresh_token_reuse" |
// "evicted" (the per-user session cap))}: a session ended before its time; what
// belongs to it (push devices, open sockets, its unexpired access tokens) goes
// with it. Written in the transaction that ends the session.
inline constexpr std::string_view kSessionRevoked = "auth.session.revoked";

// {user_id, except_session_id ("" for none), reason ("password_set" |
// "password_changed" | "password_removed" | "password_reset"), session_ids (the
// sessions this ended)}: every session of the user but one ended; messaging
// closes their sockets and refuses the listed sessions' access tokens. Written in
// the password change's transaction. (Their push devices stay: the
// auth.password.changed notice must still reach them.)
inline constexpr std::string_view kSessionsRevoked = "auth.sessions.revoked";

// {user_id, deleted_at (RFC 3339)}: the user deleted their account
// (DELETE /v1/users/me). The auth row is gone (the phone number is free again);
// every service forgets what it holds of the user: messaging anonymises their
// messages, takes them out of their conversations and deletes their uploads;
// notification drops their devices and preferences. Payment closed the wallets
// before (POST /v1/wallets/close) and keeps the ledger. Written in the deleting
// transaction, after an auth.sessions.revoked (reason "account_deleted") that
// ends every session. Carries no phone number or other personal data.
inline constexpr std::string_view kUserDeleted = "auth.user.deleted";

}  // namespace tchat::events
