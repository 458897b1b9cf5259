// HTTP handlers of the auth service: parse → validate → one call into the
// domain → map the result. No Boost here beyond the project's JSON alias.
#include "handlers.hpp"

#include <tchat/core/http/types.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/worker.hpp>

#include "payment_wallets.hpp"
#include "validation.hpp"

namespace tchat::auth {

namespace {

using http::Request;
using http::Response;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 200;

json::value OptJson(const std::optional<std::string>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

// docs/api/openapi.yaml, auth user shape; the phone only for the user themself.
json::object UserJson(const UserRecord& u, bool self) {
  json::object o{{"id", u.id},
                 {"display_name", OptJson(u.display_name)},
                 {"username", OptJson(u.username)},
                 {"avatar_url", OptJson(u.avatar_url)},
                 {"locale", u.locale},
                 {"country", u.country},
                 {"created_at", u.created_at}};
  if (self) {
    o["phone"] = u.phone;
    o["has_password"] = u.has_password;
  }
  return o;
}

json::object TokenJson(const TokenGrant& g) {
  return json::object{{"access_token", g.access_token}, {"token_type", "Bearer"},
                      {"expires_in", g.expires_in},     {"refresh_token", g.refresh_token},
                      {"user", UserJson(g.user, true)}, {"new_user", g.new_user}};
}

// Errors to clients: server-side failures get a generic message (the details,
// which may quote the database, go to the log with the request id).
Response ErrorResponse(const Request& req, const Error& e) {
  const int status = ErrorCodeHttpStatus(e.code);
  if (status >= 500 || !e.sqlstate.empty()) {
    log::Error("request failed", {{"request_id", req.request_id},
                                  {"code", ErrorCodeName(e.code)},
                                  {"sqlstate", e.sqlstate},
                                  {"error", e.message}});
    Error safe = e;
    safe.message = status == 503   ? "the service is temporarily unavailable; try again shortly"
                   : status >= 500 ? "internal error"
                                   : "the request could not be processed";
    return Response::FromError(safe);
  }
  return Response::FromError(e);
}

AuthService& Service(Request& req) {
  return req.worker->Get<AuthService>();
}

ClientInfo Client(const Request& req) {
  ClientInfo c;
  c.ip = req.remote_ip;
  c.limit_key = req.client_key;
  c.user_agent = std::string(req.Header("user-agent"));
  c.accept_language = std::string(req.Header("accept-language"));
  return c;
}

using AuthedHandler = std::function<Task<Response>(Request&, AuthService&, const Caller&)>;

// Verifies the bearer token (and that its session is active) before `h`.
http::Handler Authed(AuthedHandler h) {
  return [h = std::move(h)](Request& req) -> Task<Response> {
    std::string_view authz = req.Header("authorization");
    constexpr std::string_view kBearer = "bearer ";
    if (authz.size() <= kBearer.size()) {
      co_return Response::FromError(Error::Unauthenticated("missing bearer token"));
    }
    for (std::size_t i = 0; i < kBearer.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(authz[i])) != kBearer[i]) {
        co_return Response::FromError(Error::Unauthenticated("missing bearer token"));
      }
    }
    AuthService& svc = Service(req);
    auto caller = co_await svc.Authenticate(authz.substr(kBearer.size()));
    if (!caller) co_return ErrorResponse(req, caller.error());
    req.auth = http::AuthContext{caller->user_id, caller->session_id, caller->expires_at};
    co_return co_await h(req, svc, *caller);
  };
}

Task<Response> OtpRequest(Request& req) {
  auto body = ParseJsonObject(req.body);
  if (!body) co_return ErrorResponse(req, body.error());
  auto phone = RequireString(*body, "phone");
  if (!phone) co_return ErrorResponse(req, phone.error());
  auto country = StringOrEmpty(*body, "country");
  if (!country) co_return ErrorResponse(req, country.error());
  auto locale = StringOrEmpty(*body, "locale");
  if (!locale) co_return ErrorResponse(req, locale.error());
  auto purpose = StringOrEmpty(*body, "purpose");
  if (!purpose) co_return ErrorResponse(req, purpose.error());
  const ClientInfo client = Client(req);
  auto r = co_await Service(req).RequestOtp(*phone, *country, *locale, *purpose, client);
  if (!r) co_return ErrorResponse(req, r.error());
  json::object out{{"expires_in", r->expires_in}, {"resend_after", r->resend_after}};
  if (r->dev_code) out["dev_code"] = *r->dev_code;
  co_return Response::Json(202, out);
}

Task<Response> OtpVerify(Request& req) {
  auto body = ParseJsonObject(req.body);
  if (!body) co_return ErrorResponse(req, body.error());
  auto phone = RequireString(*body, "phone");
  if (!phone) co_return ErrorResponse(req, phone.error());
  auto code = RequireString(*body, "code");
  if (!code) co_return ErrorResponse(req, code.error());
  auto country = StringOrEmpty(*body, "country");
  if (!country) co_return ErrorResponse(req, country.error());
  ClientInfo client = Client(req);
  auto device = StringOrEmpty(*body, "device_name");
  if (!device) co_return ErrorResponse(req, device.error());
  auto platform = StringOrEmpty(*body, "platform");
  if (!platform) co_return ErrorResponse(req, platform.error());
  client.device_name = std::move(*device);
  client.platform = std::move(*platform);
  auto r = co_await Service(req).VerifyOtp(*phone, *country, *code, client);
  if (!r) co_return ErrorResponse(req, r.error());
  co_return Response::Json(200, TokenJson(*r));
}

Task<Response> Login(Request& req) {
  auto body = ParseJsonObject(req.body);
  if (!body) co_return ErrorResponse(req, body.error());
  auto phone = StringOrEmpty(*body, "phone");
  if (!phone) co_return ErrorResponse(req, phone.error());
  auto username = StringOrEmpty(*body, "username");
  if (!username) co_return ErrorResponse(req, username.error());
  auto country = StringOrEmpty(*body, "country");
  if (!country) co_return ErrorResponse(req, country.error());
  auto password = RequireString(*body, "password");
  if (!password) co_return ErrorResponse(req, password.error());
  ClientInfo client = Client(req);
  auto device = StringOrEmpty(*body, "device_name");
  if (!device) co_return ErrorResponse(req, device.error());
  auto platform = StringOrEmpty(*body, "platform");
  if (!platform) co_return ErrorResponse(req, platform.error());
  client.device_name = std::move(*device);
  client.platform = std::move(*platform);
  auto r = co_await Service(req).Login(*phone, *country, *username, std::move(*password), client);
  if (!r) co_return ErrorResponse(req, r.error());
  co_return Response::Json(200, TokenJson(*r));
}

Task<Response> RefreshTokens(Request& req) {
  auto body = ParseJsonObject(req.body);
  if (!body) co_return ErrorResponse(req, body.error());
  auto token = RequireString(*body, "refresh_token");
  if (!token) co_return ErrorResponse(req, token.error());
  const ClientInfo client = Client(req);
  auto r = co_await Service(req).Refresh(*token, client);
  if (!r) co_return ErrorResponse(req, r.error());
  co_return Response::Json(200, TokenJson(*r));
}

Task<Response> SetPassword(Request& req, AuthService& svc, const Caller& caller) {
  auto body = ParseJsonObject(req.body);
  if (!body) co_return ErrorResponse(req, body.error());
  auto password = RequireString(*body, "password");
  if (!password) co_return ErrorResponse(req, password.error());
  auto current = OptionalString(*body, "current_password");
  if (!current) co_return ErrorResponse(req, current.error());
  auto code = OptionalString(*body, "otp_code");
  if (!code) co_return ErrorResponse(req, code.error());
  Status st = co_await svc.SetPassword(caller, std::move(*password), std::move(*current),
                                       std::move(*code), req.client_key);
  if (!st) co_return ErrorResponse(req, st.error());
  co_return Response::NoContent();
}

// The proof of a password removal or account deletion: current_password or
// otp_code in a JSON body (each optional; the service answers a missing proof).
struct Proof {
  std::optional<std::string> current_password;
  std::optional<std::string> otp_code;
};

// Without a body both are missing, which the service answers with the 400 of a
// missing proof.
Result<Proof> ParseProof(const Request& req) {
  auto body = req.body.empty() ? Result<json::object>(json::object{}) : ParseJsonObject(req.body);
  if (!body) return body.error();
  auto current = OptionalString(*body, "current_password");
  if (!current) return current.error();
  auto code = OptionalString(*body, "otp_code");
  if (!code) return code.error();
  return Proof{std::move(*current), std::move(*code)};
}

Task<Response> RemovePassword(Request& req, AuthService& svc, const Caller& caller) {
  auto proof = ParseProof(req);
  if (!proof) co_return ErrorResponse(req, proof.error());
  Status st = co_await svc.RemovePassword(caller, std::move(proof->current_password),
                                          std::move(proof->otp_code), req.client_key);
  if (!st) co_return ErrorResponse(req, st.error());
  co_return Response::NoContent();
}

// DELETE /v1/users/me: the proof in a JSON body; without one, the 400 of a missing proof.
Task<Response> DeleteMe(Request& req, AuthService& svc, const Caller& caller) {
  auto proof = ParseProof(req);
  if (!proof) co_return ErrorResponse(req, proof.error());
  Status st = co_await svc.DeleteAccount(
      caller, std::move(proof->current_password), std::move(proof->otp_code), req.client_key,
      req.Header("authorization"), req.worker->Get<PaymentWallets>());
  if (!st) co_return ErrorResponse(req, st.error());
  co_return Response::NoContent();
}

Task<Response> ResetPassword(Request& req) {
  auto body = ParseJsonObject(req.body);
  if (!body) co_return ErrorResponse(req, body.error());
  auto phone = RequireString(*body, "phone");
  if (!phone) co_return ErrorResponse(req, phone.error());
  auto country = StringOrEmpty(*body, "country");
  if (!country) co_return ErrorResponse(req, country.error());
  auto code = RequireString(*body, "otp_code");
  if (!code) co_return ErrorResponse(req, code.error());
  auto password = RequireString(*body, "password");
  if (!password) co_return ErrorResponse(req, password.error());
  Status st = co_await Service(req).ResetPassword(*phone, *country, *code, std::move(*password),
                                                  req.client_key);
  if (!st) co_return ErrorResponse(req, st.error());
  co_return Response::NoContent();
}

Task<Response> Logout(Request& req, AuthService& svc, const Caller& caller) {
  Status st = co_await svc.Logout(caller);
  if (!st) co_return ErrorResponse(req, st.error());
  co_return Response::NoContent();
}

Result<int> PageLimit(const Request& req) {
  auto raw = req.Query("limit");
  if (!raw) return kDefaultPageSize;
  auto n = ParseInt(*raw, 1, kMaxPageSize);
  if (!n) return Error::InvalidArgument("limit must be an integer from 1 to 200");
  return static_cast<int>(*n);
}

Task<Response> ListSessions(Request& req, AuthService& svc, const Caller& caller) {
  auto limit = PageLimit(req);
  if (!limit) co_return ErrorResponse(req, limit.error());
  auto page = co_await svc.ListSessions(caller, req.Query("cursor"), *limit);
  if (!page) co_return ErrorResponse(req, page.error());
  json::array sessions;
  for (const auto& s : page->sessions) {
    sessions.push_back(json::object{{"id", s.id},
                                    {"device_name", OptJson(s.device_name)},
                                    {"platform", OptJson(s.platform)},
                                    {"ip", OptJson(s.ip)},
                                    {"method", s.method},
                                    {"created_at", s.created_at},
                                    {"last_used_at", s.last_used_at},
                                    {"expires_at", s.expires_at},
                                    {"current", s.id == caller.session_id}});
  }
  co_return Response::Json(200, json::object{{"sessions", std::move(sessions)},
                                             {"next_cursor", OptJson(page->next_cursor)}});
}

Task<Response> RevokeSession(Request& req, AuthService& svc, const Caller& caller) {
  Status st = co_await svc.RevokeSession(caller, req.PathParam("id"));
  if (!st) co_return ErrorResponse(req, st.error());
  co_return Response::NoContent();
}

Task<Response> GetMe(Request& req, AuthService& svc, const Caller& caller) {
  auto u = co_await svc.Me(caller);
  if (!u) co_return ErrorResponse(req, u.error());
  co_return Response::Json(200, UserJson(*u, true));
}

// PATCH body → ProfilePatch; null clears a field (locale cannot be cleared).
Result<ProfilePatch> ParsePatch(const json::object& body) {
  ProfilePatch p;
  for (const auto& [key, value] : body) {
    if (!value.is_null() && !value.is_string()) {
      return Error::InvalidArgument(std::string(key) + " must be a string or null");
    }
    std::optional<std::string> v;
    if (value.is_string()) v = std::string(value.as_string());
    if (key == "display_name") {
      p.set_display_name = true;
      if (v) {
        auto name = ValidateDisplayName(*v);
        if (!name) return std::move(name).error();
        p.display_name = std::move(*name);
      }
    } else if (key == "username") {
      p.set_username = true;
      if (v) {
        if (Status st = ValidateUsername(*v); !st) return std::move(st).error();
        p.username = std::move(v);
      }
    } else if (key == "locale") {
      if (!v) return Error::InvalidArgument("locale cannot be null");
      if (Status st = ValidateLocale(*v); !st) return std::move(st).error();
      p.set_locale = true;
      p.locale = std::move(*v);
    } else if (key == "avatar_url") {
      p.set_avatar_url = true;
      if (v) {
        if (Status st = ValidateAvatarUrl(*v); !st) return std::move(st).error();
        p.avatar_url = std::move(v);
      }
    } else {
      return Error::InvalidArgument("unknown or read-only field: " + std::string(key));
    }
  }
  return p;
}

Task<Response> PatchMe(Request& req, AuthService& svc, const Caller& caller) {
  auto body = ParseJsonObject(req.body);
  if (!body) co_return ErrorResponse(req, body.error());
  auto patch = ParsePatch(*body);
  if (!patch) co_return ErrorResponse(req, patch.error());
  auto u = co_await svc.UpdateMe(caller, *patch);
  if (!u) co_return ErrorResponse(req, u.error());
  co_return Response::Json(200, UserJson(*u, true));
}

Task<Response> GetUser(Request& req, AuthService& svc, const Caller& caller) {
  const std::string id(req.PathParam("id"));
  auto u = co_await svc.PublicUser(id);
  if (!u) co_return ErrorResponse(req, u.error());
  co_return Response::Json(200, UserJson(*u, u->id == caller.user_id));
}

// GET /v1/users?phone= | ?username=: exactly one of them. Not found is an empty
// list, whichever is used.
Task<Response> LookupUsers(Request& req, AuthService& svc, const Caller& caller) {
  auto phone = req.Query("phone");
  auto username = req.Query("username");
  if (phone.has_value() == username.has_value()) {
    co_return ErrorResponse(
        req, Error::InvalidArgument("give exactly one of the query parameters phone and username"));
  }
  if ((phone && phone->empty()) || (username && username->empty())) {
    co_return ErrorResponse(req, Error::InvalidArgument(phone ? "phone must not be empty"
                                                              : "username must not be empty"));
  }
  Result<std::optional<UserRecord>> u = std::optional<UserRecord>();
  if (phone) {
    const std::string country = req.Query("country").value_or(std::string());
    u = co_await svc.LookupByPhone(caller, *phone, country, req.client_key);
  } else {
    u = co_await svc.LookupByUsername(caller, *username, req.client_key);
  }
  if (!u) co_return ErrorResponse(req, u.error());
  json::array users;
  if (*u) users.push_back(UserJson(**u, (*u)->id == caller.user_id));
  co_return Response::Json(200,
                           json::object{{"users", std::move(users)}, {"next_cursor", nullptr}});
}

}  // namespace

void RegisterRoutes(http::Router& router, const AuthDeps& deps) {
  const http::RouteOptions open{.authenticated = false};
  router.Post("/v1/auth/otp/request", OtpRequest, open);
  router.Post("/v1/auth/otp/verify", OtpVerify, open);
  router.Post("/v1/auth/login", Login, open);
  router.Post("/v1/auth/refresh", RefreshTokens, open);
  router.Post("/v1/auth/password/reset", ResetPassword, open);
  // The route holds only the document: routes outlive the workers' event loops,
  // so they must not own anything bound to one (like the outbox relay in deps).
  router.Get(
      "/.well-known/jwks.json",
      [jwks = deps.keys->jwks()](Request&) -> Task<Response> {
        Response r = Response::Text(200, jwks, "application/json");
        r.headers.emplace_back("Cache-Control", "public, max-age=300");
        co_return r;
      },
      open);

  // Bearer-token routes: verified here (see handlers.hpp), so the server's own
  // authentication hook is not needed for them.
  router.Put("/v1/auth/password", Authed(SetPassword), open);
  router.Delete("/v1/auth/password", Authed(RemovePassword), open);
  router.Post("/v1/auth/logout", Authed(Logout), open);
  router.Get("/v1/auth/sessions", Authed(ListSessions), open);
  router.Delete("/v1/auth/sessions/{id}", Authed(RevokeSession), open);
  router.Get("/v1/users/me", Authed(GetMe), open);
  router.Patch("/v1/users/me", Authed(PatchMe), open);
  router.Delete("/v1/users/me", Authed(DeleteMe), open);
  router.Get("/v1/users/{id}", Authed(GetUser), open);
  router.Get("/v1/users", Authed(LookupUsers), open);
}

}  // namespace tchat::auth
