#include "service.hpp"

#include <algorithm>

#include <tchat/core/log.hpp>
#include <tchat/core/redis/rate_limiter.hpp>
#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>

#include "locale_text.hpp"
#include "metrics.hpp"
#include "phone.hpp"
#include "redis_keys.hpp"
#include "revocation_events.hpp"
#include "validation.hpp"

namespace tchat::auth {

namespace {

constexpr std::size_t kMaxLoginPasswordBytes = 4 * kMaxPasswordChars;

Error WrongCredentials() {
  return Error::Unauthenticated("wrong phone number, username or password");
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<std::shared_ptr<AuthDeps>> MakeAuthDeps(const Config& config, KeyFile key_file,
                                               std::string issuer, std::string audience,
                                               std::shared_ptr<events::OutboxRelay> relay) {
  auto keys = std::make_shared<const SigningKeys>(std::move(key_file));
  auto deps = std::make_shared<AuthDeps>();
  deps->config = config;
  deps->keys = keys;
  jwt::VerifierOptions vo;
  vo.issuer = issuer;
  vo.audience = audience;
  deps->issuer = std::make_shared<const TokenIssuer>(keys, std::move(issuer), std::move(audience),
                                                     config.access_token_ttl);
  deps->verifier = std::make_shared<const jwt::TokenVerifier>(keys->key_source(), vo);
  // Refuse to start with keys that do not verify their own tokens.
  const std::string probe = deps->issuer->IssueAccessToken("00000000-0000-7000-8000-000000000000",
                                                           "00000000-0000-7000-8000-000000000001",
                                                           std::chrono::system_clock::now());
  if (!deps->verifier->Verify(probe))
    return Error::Internal("signing keys failed their self-check");
  const std::string pepper = config.otp_pepper.empty()
                                 ? keys->DeriveSecret("tchat-auth otp pepper v1")
                                 : config.otp_pepper;
  deps->otp = std::make_shared<const OtpStore>(config, pepper);
  deps->guard = std::make_shared<const LoginGuard>(config);
  deps->hasher = std::make_shared<PasswordHasher>(
      PasswordHasherOptions{.opslimit = static_cast<std::uint64_t>(config.password_opslimit),
                            .memlimit = static_cast<std::size_t>(config.password_memlimit),
                            .threads = config.password_threads,
                            .max_queue = config.password_max_queue});
  deps->outbox = std::make_shared<const events::OutboxWriter>(std::string(events::kAuthStream),
                                                              std::move(relay));
  auto sealer = SealedBoxSender::FromPublicKeyHex(config.notification_seal_public_key);
  if (!sealer) {
    return Error::InvalidArgument("config TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY: " +
                                  sealer.error().message);
  }
  deps->otp_sealer = std::make_shared<const SealedBoxSender>(std::move(*sealer));
  return deps;
}

AuthService::AuthService(std::shared_ptr<const AuthDeps> deps, pg::Pool& pool,
                         redis::RedisClient& redis)
    : deps_(std::move(deps)),
      store_(pool, deps_->config.refresh_token_ttl, deps_->config.max_sessions_per_user),
      redis_(redis) {}

NewSession AuthService::MakeSession(std::string_view method, const ClientInfo& client,
                                    const std::string& refresh_token) const {
  NewSession s;
  s.id = NewUuidV7();
  s.refresh_hash = HashRefreshToken(refresh_token);
  s.method = std::string(method);
  s.device_name = CleanDeviceText(client.device_name, 64);
  s.platform = CleanDeviceText(client.platform, 32);
  s.ip = client.ip.substr(0, 64);
  s.user_agent = CleanDeviceText(client.user_agent, 256);
  return s;
}

Task<Result<TokenGrant>> AuthService::Grant(SignInRecord record, std::string session_id,
                                            std::string refresh_token) {
  TokenGrant g;
  g.access_token =
      deps_->issuer->IssueAccessToken(record.user.id, session_id, std::chrono::system_clock::now());
  g.refresh_token = std::move(refresh_token);
  g.expires_in = static_cast<int>(deps_->issuer->ttl().count());
  g.session_id = std::move(session_id);
  g.new_user = record.new_user;
  g.user = std::move(record.user);
  if (record.evicted > 0) {
    Metrics::Get().revoked_evicted->Inc(static_cast<double>(record.evicted));
    deps_->outbox->Committed();  // their auth.session.revoked, written with the sign-in
  }
  co_return g;
}

Task<Result<OtpRequested>> AuthService::RequestOtp(std::string_view phone_input,
                                                   std::string_view country,
                                                   std::string_view locale_in,
                                                   std::string_view purpose_in,
                                                   const ClientInfo& client) {
  auto& m = Metrics::Get();
  auto phone = NormalizePhone(phone_input, country);
  if (!phone) co_return std::move(phone).error();
  if (!locale_in.empty() && !IsSupportedLocale(locale_in)) {
    co_return Error::InvalidArgument("locale must be one of en, th, id, ms, fil, vi");
  }
  if (!purpose_in.empty() && purpose_in != "sign_in" && purpose_in != "password") {
    co_return Error::InvalidArgument("purpose must be sign_in or password");
  }
  const OtpPurpose purpose = purpose_in == "password" ? OtpPurpose::kPassword : OtpPurpose::kSignIn;
  const std::string code = OtpStore::NewCode();
  auto issued = co_await deps_->otp->Issue(redis_, phone->e164, client.limit_key, code, purpose);
  if (!issued) co_return std::move(issued).error();
  switch (issued->result) {
    case OtpIssue::kIssued:
      break;
    case OtpIssue::kIpLimited:
      m.otp_limited_ip->Inc();
      co_return Error::RateLimited("too many code requests from this address; try again later",
                                   issued->retry_after);
    case OtpIssue::kCooldown:
      m.otp_limited_cooldown->Inc();
      co_return Error::RateLimited("a code was just sent to this number; wait before asking again",
                                   issued->retry_after);
    case OtpIssue::kNumberLimited:
      m.otp_limited_number->Inc();
      co_return Error::RateLimited("too many codes requested for this number; try again later",
                                   issued->retry_after);
  }

  // The SMS goes out through the notification service: the event is queued in
  // the outbox; if that fails the code is withdrawn so the person can retry.
  const std::string locale = PickLocale(locale_in, client.accept_language, phone->region);
  const auto now = std::chrono::system_clock::now();
  events::Event ev = events::Event::Make(
      std::string(events::kOtpRequested),
      json::object{{"phone", phone->e164},
                   {"country", phone->region},
                   {"locale", locale},
                   // Sealed: only the SMS sender (notification) can read it.
                   {"sealed_code", deps_->otp_sealer->Seal(code)},
                   {"purpose", purpose == OtpPurpose::kPassword ? "password" : "sign_in"},
                   {"expires_in", deps_->config.otp_ttl.count()},
                   {"expires_at", FormatRfc3339Ms(now + deps_->config.otp_ttl)}});
  Status queued = co_await store_.Execute(deps_->outbox->Insert(ev));
  if (!queued) {
    (void)co_await deps_->otp->Cancel(redis_, phone->e164, purpose);
    log::Error("cannot queue the OTP SMS",
               {{"phone", MaskPhone(phone->e164)}, {"error", queued.error().message}});
    co_return Error::Unavailable("cannot send a code right now; try again shortly");
  }
  deps_->outbox->Committed();
  m.otp_sent->Inc();
  log::Info("otp requested",
            {{"phone", MaskPhone(phone->e164)},
             {"country", phone->region},
             {"locale", locale},
             {"purpose", purpose == OtpPurpose::kPassword ? "password" : "sign_in"},
             {"event_id", ev.id}});
  OtpRequested out;
  out.expires_in = static_cast<int>(deps_->config.otp_ttl.count());
  out.resend_after = static_cast<int>(deps_->config.otp_resend_cooldown.count());
  if (deps_->config.dev_otp) out.dev_code = code;
  co_return out;
}

Task<Status> AuthService::CheckCode(std::string_view e164, std::string_view limit_key,
                                    std::string_view code, OtpPurpose purpose) {
  auto& m = Metrics::Get();
  auto check = co_await deps_->otp->Verify(redis_, e164, limit_key, code, purpose);
  if (!check) co_return std::move(check).error();
  switch (check->result) {
    case OtpCheck::kOk:
      co_return Ok();
    case OtpCheck::kIpLimited:
      m.otp_failed_rate_limited->Inc();
      co_return Error::RateLimited("too many code attempts from this address; try again later",
                                   check->retry_after);
    case OtpCheck::kNoCode:
      m.otp_failed_no_code->Inc();
      co_return Error::Unauthenticated(
          "no valid code for this number: it expired, was already used or was never sent; "
          "request a new one");
    case OtpCheck::kBurned:
      m.otp_failed_burned->Inc();
      log::Warn("otp burned after too many wrong codes", {{"phone", MaskPhone(e164)}});
      co_return Error::Unauthenticated(
          "wrong code; too many wrong attempts, so this code no longer works: request a new one");
    case OtpCheck::kWrong:
      break;
  }
  m.otp_failed_wrong->Inc();
  co_return Error::Unauthenticated("wrong code (" + std::to_string(check->attempts_left) +
                                   " attempts left)");
}

Task<Result<TokenGrant>> AuthService::VerifyOtp(std::string_view phone_input,
                                                std::string_view country, std::string_view code,
                                                const ClientInfo& client) {
  auto& m = Metrics::Get();
  auto phone = NormalizePhone(phone_input, country);
  if (!phone) co_return std::move(phone).error();
  if (Status st = ValidateOtpCode(code); !st) co_return std::move(st).error();
  Status checked = co_await CheckCode(phone->e164, client.limit_key, code, OtpPurpose::kSignIn);
  if (!checked) co_return std::move(checked).error();
  m.otp_verified->Inc();

  const std::string refresh = NewRefreshToken();
  NewSession session = MakeSession("otp", client, refresh);
  const std::string locale = PickLocale("", client.accept_language, phone->region);
  auto rec = co_await store_.SignInByPhone(phone->e164, phone->region, locale, session);
  if (!rec) {
    log::Error("otp sign-in failed after the code was accepted",
               {{"phone", MaskPhone(phone->e164)}, {"error", rec.error().message}});
    co_return std::move(rec).error();
  }
  m.signins_otp->Inc();
  if (rec->new_user) m.users_created->Inc();
  // Holding the phone proves ownership: lift any password lock-out.
  (void)co_await deps_->guard->ClearAccount(redis_, rec->user.id, client.limit_key);
  log::Info("signed in", {{"method", "otp"},
                          {"user_id", rec->user.id},
                          {"session_id", session.id},
                          {"new_user", rec->new_user}});
  co_return co_await Grant(std::move(*rec), session.id, refresh);
}

Task<Result<TokenGrant>> AuthService::Login(std::string_view phone_input, std::string_view country,
                                            std::string_view username, std::string password,
                                            const ClientInfo& client) {
  auto& m = Metrics::Get();
  if (phone_input.empty() == username.empty()) {
    co_return Error::InvalidArgument("give either phone or username");
  }
  if (password.empty()) co_return Error::InvalidArgument("password is required");
  if (password.size() > kMaxLoginPasswordBytes) co_return WrongCredentials();

  std::string e164, name;
  if (!phone_input.empty()) {
    auto phone = NormalizePhone(phone_input, country);
    if (!phone) co_return std::move(phone).error();
    e164 = phone->e164;
  } else {
    // A name that cannot exist goes the same way as an unknown one (lookup,
    // guard, dummy hash), so the answer and its timing reveal nothing.
    if (username.size() > 64) co_return Error::InvalidArgument("username is too long");
    name = LowerAscii(username);
  }

  auto found = co_await store_.FindForLogin(e164, name);
  if (!found) co_return std::move(found).error();
  // Unknown accounts are guarded like real ones, so that lock-out behaviour does
  // not reveal who exists.
  const std::string account = *found ? (*found)->first.id : (e164.empty() ? "name:" + name : e164);
  if (Status st = co_await deps_->guard->Check(redis_, account, client.limit_key); !st) {
    co_return std::move(st).error();
  }

  bool ok = false;
  std::string stored;
  if (*found && !(*found)->second.empty()) {
    stored = (*found)->second;
    auto v = co_await deps_->hasher->Verify(stored, password);
    if (!v) co_return std::move(v).error();
    ok = *v;
  } else {
    if (Status st = co_await deps_->hasher->VerifyDummy(password); !st) {
      co_return std::move(st).error();
    }
  }
  if (!ok) {
    m.login_failures->Inc();
    auto ev = co_await deps_->guard->RecordFailure(redis_, account, client.limit_key);
    if (ev) {
      if (ev->account_ip) m.lockout_account_ip->Inc();
      if (ev->account) m.lockout_account->Inc();
      if (ev->ip) m.lockout_ip->Inc();
      if (ev->account_ip || ev->account || ev->ip) {
        log::Warn("password lock-out", {{"account", *found ? account : std::string("unknown")},
                                        {"ip", client.ip},
                                        {"account_ip", ev->account_ip},
                                        {"account_wide", ev->account},
                                        {"address", ev->ip}});
      }
    }
    co_return WrongCredentials();
  }
  (void)co_await deps_->guard->RecordSuccess(redis_, account, client.limit_key);

  std::string rehash;
  if (deps_->hasher->NeedsRehash(stored)) {
    auto h = co_await deps_->hasher->Hash(password);
    if (h) rehash = std::move(*h);
  }
  const std::string refresh = NewRefreshToken();
  NewSession session = MakeSession("password", client, refresh);
  auto rec = co_await store_.SignInUser((*found)->first, session, stored, rehash);
  if (!rec) co_return std::move(rec).error();
  m.signins_password->Inc();
  log::Info("signed in",
            {{"method", "password"}, {"user_id", rec->user.id}, {"session_id", session.id}});
  co_return co_await Grant(std::move(*rec), session.id, refresh);
}

Task<Result<TokenGrant>> AuthService::Refresh(std::string_view refresh_token,
                                              const ClientInfo& client) {
  auto& m = Metrics::Get();
  if (!LooksLikeRefreshToken(refresh_token)) {
    m.refresh_invalid->Inc();
    co_return Error::Unauthenticated("invalid or expired refresh token");
  }
  const std::string next = NewRefreshToken();
  auto r = co_await store_.Refresh(HashRefreshToken(refresh_token), HashRefreshToken(next),
                                   client.ip.substr(0, 64));
  if (!r) co_return std::move(r).error();
  switch (r->status) {
    case RefreshStatus::kRotated: {
      m.refresh_ok->Inc();
      SignInRecord rec;
      rec.user = std::move(r->user);
      co_return co_await Grant(std::move(rec), std::move(r->session_id), next);
    }
    case RefreshStatus::kReused:
      m.refresh_reused->Inc();
      m.revoked_reuse->Inc();
      log::Warn("refresh token reused: session revoked",
                {{"session_id", r->session_id}, {"ip", client.ip}});
      deps_->outbox->Committed();  // its auth.session.revoked, written with the revocation
      co_return Error::Unauthenticated(
          "refresh token was already used; the session has been revoked for safety");
    case RefreshStatus::kRevoked:
      m.refresh_revoked->Inc();
      co_return Error::Unauthenticated("the session has been revoked; sign in again");
    case RefreshStatus::kUnknown:
      break;
  }
  m.refresh_invalid->Inc();
  co_return Error::Unauthenticated("invalid or expired refresh token");
}

Task<Status> AuthService::Logout(const Caller& caller) {
  // Named, not a temporary: GCC 12 destroys some co_await temporaries twice.
  const events::Event notice = SessionRevokedEvent(caller.user_id, caller.session_id, "logout");
  auto r = co_await store_.RevokeSession(caller.session_id, caller.user_id, "logout",
                                         *deps_->outbox, notice);
  if (!r) co_return std::move(r).error();
  if (*r) deps_->outbox->Committed();
  Metrics::Get().revoked_logout->Inc();
  co_return Ok();
}

Task<Result<SessionPage>> AuthService::ListSessions(const Caller& caller,
                                                    std::optional<std::string> cursor, int limit) {
  if (cursor && !IsUuid(*cursor)) co_return Error::InvalidArgument("cursor is not valid");
  auto rows = co_await store_.ListSessions(caller.user_id, std::move(cursor), limit + 1);
  if (!rows) co_return std::move(rows).error();
  SessionPage page;
  page.sessions = std::move(*rows);
  if (page.sessions.size() > static_cast<std::size_t>(limit)) {
    page.sessions.resize(static_cast<std::size_t>(limit));
    page.next_cursor = page.sessions.back().id;
  }
  co_return page;
}

Task<Status> AuthService::RevokeSession(const Caller& caller, std::string_view session_id) {
  if (!IsUuid(session_id)) co_return Error::NotFound("session not found");
  const events::Event notice = SessionRevokedEvent(caller.user_id, session_id, "revoked");
  auto r =
      co_await store_.RevokeSession(session_id, caller.user_id, "revoked", *deps_->outbox, notice);
  if (!r) co_return std::move(r).error();
  if (!*r) co_return Error::NotFound("session not found");
  deps_->outbox->Committed();
  Metrics::Get().revoked_user->Inc();
  co_return Ok();
}

Task<Result<Caller>> AuthService::Authenticate(std::string_view token) {
  auto p = deps_->verifier->Verify(token);
  if (!p) co_return std::move(p).error();
  if (!IsUuid(p->user_id) || !IsUuid(p->session_id)) {
    co_return Error::Unauthenticated("invalid token subject");
  }
  auto active = co_await store_.IsSessionActive(p->session_id, p->user_id);
  if (!active) co_return std::move(active).error();
  if (!*active) co_return Error::Unauthenticated("the session has been revoked; sign in again");
  co_return Caller{p->user_id, p->session_id, p->expires_at};
}

Task<Result<UserRecord>> AuthService::Me(const Caller& caller) {
  auto u = co_await store_.GetUser(caller.user_id);
  if (!u) co_return std::move(u).error();
  if (!*u) co_return Error::NotFound("user not found");
  co_return std::move(**u);
}

Task<Result<UserRecord>> AuthService::UpdateMe(const Caller& caller, const ProfilePatch& patch) {
  co_return co_await store_.UpdateProfile(caller.user_id, patch);
}

Task<Result<UserRecord>> AuthService::PublicUser(std::string_view id) {
  if (!IsUuid(id)) co_return Error::NotFound("user not found");
  auto u = co_await store_.GetUser(id);
  if (!u) co_return std::move(u).error();
  if (!*u) co_return Error::NotFound("user not found");
  co_return std::move(**u);
}

Task<Status> AuthService::HitLookupLimit(const Caller& caller, std::string_view ip) {
  auto& m = Metrics::Get();
  const auto& cfg = deps_->config;
  const std::string user_key = std::string(kKeyPrefix) + "lookup_user:" + caller.user_id;
  const std::string ip_key = std::string(kKeyPrefix) + "lookup_ip:" + std::string(ip);
  auto by_user = co_await redis::RateLimiter::Hit(redis_, user_key, cfg.lookup_per_user);
  if (!by_user) co_return std::move(by_user).error();
  auto by_ip = co_await redis::RateLimiter::Hit(redis_, ip_key, cfg.lookup_per_ip);
  if (!by_ip) co_return std::move(by_ip).error();
  if (!by_user->allowed || !by_ip->allowed) {
    m.lookups_limited->Inc();
    co_return Error::RateLimited(
        "too many contact lookups; try again later",
        std::max(by_user->allowed ? std::chrono::seconds(0) : by_user->retry_after,
                 by_ip->allowed ? std::chrono::seconds(0) : by_ip->retry_after));
  }
  co_return Ok();
}

Task<Result<std::optional<UserRecord>>> AuthService::LookupByPhone(const Caller& caller,
                                                                   std::string_view phone_input,
                                                                   std::string_view country,
                                                                   std::string_view ip) {
  auto& m = Metrics::Get();
  if (Status st = co_await HitLookupLimit(caller, ip); !st) co_return std::move(st).error();
  std::string region(country);
  if (region.empty() && !phone_input.starts_with('+')) {
    // National format: the caller's own country.
    auto me = co_await store_.GetUser(caller.user_id);
    if (!me) co_return std::move(me).error();
    if (*me) region = (*me)->country;
  }
  auto phone = NormalizePhone(phone_input, region);
  if (!phone) co_return std::move(phone).error();
  auto u = co_await store_.FindByPhone(phone->e164);
  if (!u) co_return std::move(u).error();
  (*u ? m.lookups_found : m.lookups_missing)->Inc();
  co_return std::move(*u);
}

Task<Result<std::optional<UserRecord>>> AuthService::LookupByUsername(const Caller& caller,
                                                                      std::string_view username,
                                                                      std::string_view ip) {
  auto& m = Metrics::Get();
  if (Status st = co_await HitLookupLimit(caller, ip); !st) co_return std::move(st).error();
  // The shape every username has (users_username_format); reserved names are
  // looked up like any other (they are refused when chosen, not when searched).
  const bool shaped = username.size() >= 3 && username.size() <= 32 &&
                      ((username.front() >= 'a' && username.front() <= 'z') ||
                       (username.front() >= 'A' && username.front() <= 'Z')) &&
                      std::all_of(username.begin(), username.end(), [](char c) {
                        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                               (c >= '0' && c <= '9') || c == '_';
                      });
  if (!shaped) {
    co_return Error::InvalidArgument(
        "username must be 3 to 32 letters a-z, digits or '_', starting with a letter");
  }
  auto u = co_await store_.FindByUsername(username);
  if (!u) co_return std::move(u).error();
  (*u ? m.lookups_found : m.lookups_missing)->Inc();
  co_return std::move(*u);
}

Task<Result<std::int64_t>> AuthService::Cleanup() {
  co_return co_await store_.Cleanup(deps_->config.session_retention);
}

}  // namespace tchat::auth
