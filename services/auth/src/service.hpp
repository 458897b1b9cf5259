#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/events/auth_events.hpp>
#include <tchat/core/events/outbox.hpp>
#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/jwt/token_verifier.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/redis/client.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/sealed_box.hpp>
#include <tchat/core/task.hpp>

#include "config.hpp"
#include "login_guard.hpp"
#include "otp_store.hpp"
#include "password_hasher.hpp"
#include "signing_keys.hpp"
#include "store.hpp"
#include "tokens.hpp"

namespace tchat::auth {

class PaymentWallets;

// What every worker's AuthService shares: immutable or thread-safe objects
// built once at start-up.
struct AuthDeps {
  Config config;
  std::shared_ptr<const SigningKeys> keys;
  std::shared_ptr<const TokenIssuer> issuer;
  // The shared core verifier over auth's own key set (verifies auth's routes).
  std::shared_ptr<const jwt::TokenVerifier> verifier;
  std::shared_ptr<const OtpStore> otp;
  std::shared_ptr<const LoginGuard> guard;
  std::shared_ptr<PasswordHasher> hasher;
  std::shared_ptr<const events::OutboxWriter> outbox;
  // Seals OTP codes to the notification service's key (the SMS sender).
  std::shared_ptr<const SealedBoxSender> otp_sealer;
};

// Builds the shared components: signer and verifier over `keys` (checked by
// signing and verifying a probe token), OTP store (pepper from config or derived
// from the active key), login guard, password hasher and the outbox writer that
// wakes `relay` (may be null).
Result<std::shared_ptr<AuthDeps>> MakeAuthDeps(const Config& config, KeyFile keys,
                                               std::string issuer, std::string audience,
                                               std::shared_ptr<events::OutboxRelay> relay);

// Facts about the client that a sign-in records on the session.
struct ClientInfo {
  std::string ip;
  std::string limit_key;  // what per-address limits count under (AddressLimitKey)
  std::string user_agent;
  std::string accept_language;
  std::string device_name;
  std::string platform;
};

struct OtpRequested {
  int expires_in = 0;
  int resend_after = 0;
  std::optional<std::string> dev_code;  // only with TCHAT_DEV_OTP=1
};

// The result of a sign-in or a refresh: a token pair and the user.
struct TokenGrant {
  std::string access_token;
  std::string refresh_token;
  int expires_in = 0;
  std::string session_id;
  UserRecord user;
  bool new_user = false;
};

// Who an access token speaks for, after its session was found active.
struct Caller {
  std::string user_id;
  std::string session_id;
  std::chrono::system_clock::time_point expires_at;
};

struct SessionPage {
  std::vector<SessionRecord> sessions;
  std::optional<std::string> next_cursor;
};

// The auth domain: OTP and password sign-in, tokens, sessions, profiles. One per
// worker (it holds that worker's pool and Redis client): use it only from
// coroutines on that worker. Every error is a tchat::Error with the docs/api/openapi.yaml
// category; messages are meant for clients and never contain secrets.
class AuthService {
 public:
  AuthService(std::shared_ptr<const AuthDeps> deps, pg::Pool& pool, redis::RedisClient& redis);

  // POST /v1/auth/otp/request; `purpose` "sign_in" (or empty) or "password".
  Task<Result<OtpRequested>> RequestOtp(std::string_view phone, std::string_view country,
                                        std::string_view locale, std::string_view purpose,
                                        const ClientInfo& client);
  // POST /v1/auth/otp/verify
  Task<Result<TokenGrant>> VerifyOtp(std::string_view phone, std::string_view country,
                                     std::string_view code, const ClientInfo& client);
  // POST /v1/auth/login: exactly one of phone (+country) and username.
  Task<Result<TokenGrant>> Login(std::string_view phone, std::string_view country,
                                 std::string_view username, std::string password,
                                 const ClientInfo& client);
  // POST /v1/auth/refresh
  Task<Result<TokenGrant>> Refresh(std::string_view refresh_token, const ClientInfo& client);
  // PUT /v1/auth/password: needs a proof, one of `current_password` and
  // `otp_code` (a code of purpose "password" sent to the user's phone, which
  // lives otp_ttl); ends the user's other sessions and tells the user
  // (auth.password.changed). (Two optionals rather than one aggregate: GCC 12
  // destroys a braced aggregate argument of a coroutine twice.)
  Task<Status> SetPassword(const Caller& caller, std::string password,
                           std::optional<std::string> current_password,
                           std::optional<std::string> otp_code, std::string_view ip);
  // DELETE /v1/auth/password: the same proof as a change; kConflict when the user
  // has no password. Ends the other sessions and tells the user, as a change.
  Task<Status> RemovePassword(const Caller& caller, std::optional<std::string> current_password,
                              std::optional<std::string> otp_code, std::string_view ip);
  // POST /v1/auth/password/reset: a code of purpose "password" for `phone` sets a
  // new password, ends every session of the user and tells them.
  Task<Status> ResetPassword(std::string_view phone, std::string_view country,
                             std::string_view code, std::string password, std::string_view ip);
  // DELETE /v1/users/me: needs a fresh proof (`otp_code` of purpose "password",
  // or `current_password`; kInvalidArgument when neither), then asks payment to
  // close the wallets with the caller's `authorization` (409 while they hold
  // money), then deletes the user with every session and announces it
  // (auth.sessions.revoked, auth.user.deleted) in one transaction.
  Task<Status> DeleteAccount(const Caller& caller, std::optional<std::string> current_password,
                             std::optional<std::string> otp_code, std::string_view ip,
                             std::string_view authorization, PaymentWallets& wallets);
  // POST /v1/auth/logout
  Task<Status> Logout(const Caller& caller);
  // GET /v1/auth/sessions
  Task<Result<SessionPage>> ListSessions(const Caller& caller, std::optional<std::string> cursor,
                                         int limit);
  // DELETE /v1/auth/sessions/{id}
  Task<Status> RevokeSession(const Caller& caller, std::string_view session_id);

  // Verifies a bearer token with the shared verifier and checks that its session
  // is still active (auth's own endpoints refuse revoked sessions at once).
  Task<Result<Caller>> Authenticate(std::string_view bearer_token);

  Task<Result<UserRecord>> Me(const Caller& caller);
  Task<Result<UserRecord>> UpdateMe(const Caller& caller, const ProfilePatch& patch);
  Task<Result<UserRecord>> PublicUser(std::string_view id);
  // GET /v1/users?phone=: rate-limited per caller and per address.
  Task<Result<std::optional<UserRecord>>> LookupByPhone(const Caller& caller,
                                                        std::string_view phone,
                                                        std::string_view country,
                                                        std::string_view ip);
  // GET /v1/users?username=: exact match, case-insensitive (as usernames are
  // unique); the same limits as LookupByPhone, counted together with it. A string
  // of another shape than every username's (3-32 of A-Z a-z 0-9 _, a letter
  // first) is kInvalidArgument.
  Task<Result<std::optional<UserRecord>>> LookupByUsername(const Caller& caller,
                                                           std::string_view username,
                                                           std::string_view ip);

  // Deletes long-ended sessions and refresh tokens (background loop).
  Task<Result<std::int64_t>> Cleanup();

  const AuthDeps& deps() const { return *deps_; }

 private:
  Task<Result<TokenGrant>> Grant(SignInRecord record, std::string session_id,
                                 std::string refresh_token);
  NewSession MakeSession(std::string_view method, const ClientInfo& client,
                         const std::string& refresh_token) const;
  // Verifies (and uses up) a code; failures as the sign-in answers them.
  Task<Status> CheckCode(std::string_view e164, std::string_view limit_key, std::string_view code,
                         OtpPurpose purpose);
  Task<Status> CheckCurrentPassword(const Caller& caller, const std::string& stored,
                                    std::string current, std::string_view ip);
  Task<Status> CheckPasswordCode(const Caller& caller, std::string_view code, std::string_view ip);
  // Hashes and stores a new password (an empty one removes it), ending the
  // user's sessions but `session_id` (empty: all), with their
  // auth.sessions.revoked and the auth.password.changed notice.
  Task<Status> StorePassword(const std::string& user_id, const std::string& session_id,
                             const std::string& old_hash, std::string password,
                             std::string_view change);
  Task<Status> CheckDeletionProof(const Caller& caller, std::optional<std::string> current_password,
                                  std::optional<std::string> otp_code, std::string_view ip);
  // Counts one contact lookup against the caller's and the address's limits.
  Task<Status> HitLookupLimit(const Caller& caller, std::string_view ip);
  // The fresh proof of a password change or removal: `current_password` or an
  // `otp_code` of purpose "password" (kInvalidArgument when neither is given).
  Task<Status> CheckProof(const Caller& caller, const std::string& stored,
                          std::optional<std::string> current_password,
                          std::optional<std::string> otp_code, std::string_view ip);

  std::shared_ptr<const AuthDeps> deps_;
  AuthStore store_;
  redis::RedisClient& redis_;
};

}  // namespace tchat::auth
