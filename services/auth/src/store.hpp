#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/events/outbox.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::auth {

// A user as stored. Times are RFC 3339 UTC strings made by the database.
struct UserRecord {
  std::string id;
  std::string phone;  // E.164
  std::string country;
  std::string locale;
  std::optional<std::string> display_name;
  std::optional<std::string> username;
  std::optional<std::string> avatar_url;
  std::string created_at;
  bool has_password = false;
};

// The device facts of a new session.
struct NewSession {
  std::string id;            // UUIDv7
  std::string refresh_hash;  // HashRefreshToken() of its first refresh token
  std::string method;        // "otp" | "password"
  std::string device_name;   // may be empty
  std::string platform;
  std::string ip;
  std::string user_agent;
};

struct SignInRecord {
  UserRecord user;
  bool new_user = false;
  std::int64_t evicted = 0;  // older sessions revoked (and announced) by the per-user cap
};

struct SessionRecord {
  std::string id;
  std::string method;
  std::optional<std::string> device_name;
  std::optional<std::string> platform;
  std::optional<std::string> ip;
  std::string created_at;
  std::string last_used_at;
  std::string expires_at;
};

// What a refresh attempt found.
enum class RefreshStatus {
  kRotated,  // ok: the old token is used up, the new one stored
  kUnknown,  // no such token (or expired)
  kRevoked,  // the token's session has been revoked
  kReused,   // an already-rotated token: the session is now revoked
};

struct RefreshRecord {
  RefreshStatus status = RefreshStatus::kUnknown;
  std::string session_id;
  UserRecord user;  // kRotated only
};

// Which profile fields a PATCH sets; a set field with nullopt clears it.
struct ProfilePatch {
  bool set_display_name = false;
  std::optional<std::string> display_name;
  bool set_username = false;
  std::optional<std::string> username;
  bool set_locale = false;
  std::string locale;
  bool set_avatar_url = false;
  std::optional<std::string> avatar_url;
};

// The auth database (tchat_auth): users, sessions, refresh tokens. Every
// operation is one statement or one pipelined batch (atomic), so that a sign-in
// or a refresh costs a single round trip. Per worker: bound to that worker's
// pool, used only from its event loop.
class AuthStore {
 public:
  AuthStore(pg::Pool& pool, std::chrono::seconds session_ttl, int max_sessions_per_user);

  // OTP sign-in: creates the user on first sign-in, opens the session with its
  // first refresh token and applies the per-user session cap (each evicted
  // session's auth.session.revoked goes to the outbox), in one batch.
  Task<Result<SignInRecord>> SignInByPhone(std::string_view phone, std::string_view country,
                                           std::string_view locale, const NewSession& session);
  // Password sign-in of a known user. `rehash` (when not empty) replaces the
  // stored password hash `old_hash` in the same batch.
  Task<Result<SignInRecord>> SignInUser(const UserRecord& user, const NewSession& session,
                                        std::string_view old_hash, std::string_view rehash);

  // Rotates a refresh token (one statement); on failure tells why, revoking the
  // session (and queueing its auth.session.revoked) when a used token comes back.
  Task<Result<RefreshRecord>> Refresh(std::string_view token_hash, std::string_view new_hash,
                                      std::string_view ip);

  // True when the session exists, belongs to the user and is neither revoked nor
  // expired.
  Task<Result<bool>> IsSessionActive(std::string_view session_id, std::string_view user_id);
  // Revokes one of the user's sessions and queues `notice` (its
  // auth.session.revoked; not again for a session already revoked) in one
  // transaction. False when the user has no such session (someone else's
  // sessions are "not found" too).
  Task<Result<bool>> RevokeSession(std::string_view session_id, std::string_view user_id,
                                   std::string_view reason, const events::OutboxWriter& outbox,
                                   const events::Event& notice);
  // Active sessions, newest first; `before` is a session id cursor.
  Task<Result<std::vector<SessionRecord>>> ListSessions(std::string_view user_id,
                                                        std::optional<std::string> before,
                                                        int limit);

  Task<Result<std::optional<UserRecord>>> GetUser(std::string_view id);
  Task<Result<std::optional<UserRecord>>> FindByPhone(std::string_view phone);
  // Case-insensitive, as usernames are unique (users_username_lower_key).
  Task<Result<std::optional<UserRecord>>> FindByUsername(std::string_view username);
  // A user and their password hash (empty when none) by phone or username.
  Task<Result<std::optional<std::pair<UserRecord, std::string>>>> FindForLogin(
      std::string_view phone, std::string_view username);
  Task<Result<std::string>> GetPasswordHash(std::string_view user_id);

  // kConflict when the username is taken (case-insensitive).
  Task<Result<UserRecord>> UpdateProfile(std::string_view user_id, const ProfilePatch& patch);
  // Sets the password (an empty `new_hash` removes it) when the stored hash is
  // still `expected_old` (empty: none), revokes the user's sessions other than
  // `keep_session` (empty: all of them), and queues their auth.sessions.revoked
  // (`revoke_reason`, with the revoked ids) and `notice` in the outbox, in one
  // transaction. False when the hash changed meanwhile (nothing written).
  Task<Result<bool>> SetPassword(std::string_view user_id, std::string_view expected_old,
                                 std::string_view new_hash, std::string_view keep_session,
                                 std::string_view revoke_reason, const events::OutboxWriter& outbox,
                                 const events::Event& notice);

  // Deletes the user (PDPA erasure, DELETE /v1/users/me): the users row goes, and
  // with it (ON DELETE CASCADE) every session and refresh token; the phone
  // number and username are free at once. Queues auth.sessions.revoked (reason
  // "account_deleted", the sessions that were still active) and
  // auth.user.deleted in the same transaction. False when no such user (nothing
  // written).
  Task<Result<bool>> DeleteUser(std::string_view user_id, const events::OutboxWriter& outbox);

  // Deletes sessions and refresh tokens that ended more than `retention` ago.
  Task<Result<std::int64_t>> Cleanup(std::chrono::milliseconds retention);

  // Runs one statement on its own (e.g. an outbox insert).
  Task<Status> Execute(pg::Statement statement);

 private:
  // The per-user cap after `new_session` was added, with its announcements.
  pg::Statement Evict(std::string_view new_session) const;

  pg::Pool& pool_;
  std::string session_ttl_;  // "2592000 seconds"
  int max_sessions_;
};

}  // namespace tchat::auth
