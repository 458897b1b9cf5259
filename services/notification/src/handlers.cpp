#include "handlers.hpp"

#include <tchat/core/config.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>
#include <tchat/core/worker.hpp>

#include "localization.hpp"
#include "quiet_hours.hpp"
#include "store.hpp"

namespace tchat::notification {

namespace {

using http::Request;
using http::Response;

pg::Pool& Db(Request& req) {
  return req.worker->Get<pg::Pool>();
}

Result<int> Limit(const Request& req) {
  auto v = req.Query("limit");
  if (!v) return 50;
  auto n = ParseInt(*v, 1, 200);
  if (!n) return Error::InvalidArgument("limit must be an integer from 1 to 200");
  return static_cast<int>(*n);
}

Result<std::optional<std::string>> Cursor(const Request& req) {
  auto v = req.Query("cursor");
  if (!v || v->empty()) return std::optional<std::string>();
  if (!IsUuid(*v)) return Error::InvalidArgument("cursor is not valid");
  return std::optional<std::string>(*v);
}

Result<std::optional<InboxCursor>> InboxCursorQuery(const Request& req) {
  auto v = req.Query("cursor");
  if (!v || v->empty()) return std::optional<InboxCursor>();
  auto c = ParseInboxCursor(*v);
  if (!c) return Error::InvalidArgument("cursor is not valid");
  return std::optional<InboxCursor>(std::move(*c));
}

Result<bool> BoolQuery(const Request& req, std::string_view key) {
  auto v = req.Query(key);
  if (!v || v->empty()) return false;
  auto b = ParseBool(*v);
  if (!b) return Error::InvalidArgument(std::string(key) + " must be true or false");
  return *b;
}

bool PrintableToken(std::string_view t) {
  for (char c : t) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) return false;
  }
  return true;
}

Status CheckAdmin(const Request& req, const std::string& token) {
  if (token.empty()) return Error::PermissionDenied("the admin API is not configured");
  if (!http::BearerMatches(req, token)) return Error::Unauthenticated("admin credential required");
  return Ok();
}

// Parses quiet_hours {start, end, timezone?} ("HH:MM"; the zone defaults to
// the user's).
Result<QuietHours> ParseQuietHours(const json::object& q, const std::string& user_timezone) {
  auto start = RequireString(q, "start");
  if (!start) return Error::InvalidArgument("quiet_hours.start is required (HH:MM)");
  auto end = RequireString(q, "end");
  if (!end) return Error::InvalidArgument("quiet_hours.end is required (HH:MM)");
  auto s = ParseClock(*start);
  auto e = ParseClock(*end);
  if (!s || !e) return Error::InvalidArgument("quiet_hours start and end must be HH:MM");
  if (*s == *e) return Error::InvalidArgument("quiet_hours start and end must differ");
  auto tz = OptionalString(q, "timezone");
  if (!tz) return Error::InvalidArgument("quiet_hours.timezone must be a string");
  std::string zone = tz->value_or(user_timezone);
  if (!IsValidTimeZone(zone)) {
    return Error::InvalidArgument("quiet_hours.timezone is not an IANA time zone");
  }
  return QuietHours{*s, *e, std::move(zone)};
}

// One entry of muted_conversations: a conversation id, or {conversation_id, until?}.
Result<Mute> ParseMute(const json::value& v) {
  Mute m;
  if (v.is_string()) {
    m.conversation_id = std::string(v.as_string());
  } else if (v.is_object()) {
    auto id = RequireString(v.as_object(), "conversation_id");
    if (!id) return Error::InvalidArgument("muted_conversations[].conversation_id required");
    m.conversation_id = std::move(*id);
    auto until = OptionalString(v.as_object(), "until");
    if (!until) return Error::InvalidArgument("muted_conversations[].until must be a string");
    if (*until) {
      auto t = ParseRfc3339(**until);
      if (!t) return Error::InvalidArgument("muted_conversations[].until must be RFC 3339");
      m.until = *t;
    }
  } else {
    return Error::InvalidArgument("muted_conversations entries must be objects");
  }
  if (m.conversation_id.empty() || m.conversation_id.size() > 64 ||
      !PrintableToken(m.conversation_id)) {
    return Error::InvalidArgument("muted_conversations[].conversation_id is not valid");
  }
  return m;
}

// The whole muted_conversations list (at most 1000; a conversation named twice
// keeps its last `until`).
Result<std::vector<Mute>> ParseMutes(const json::value& list) {
  if (!list.is_array()) return Error::InvalidArgument("muted_conversations must be an array");
  const auto& arr = list.as_array();
  if (arr.size() > 1000) return Error::InvalidArgument("at most 1000 muted conversations");
  std::vector<Mute> muted;
  for (const auto& v : arr) {
    auto m = ParseMute(v);
    if (!m) return std::move(m).error();
    bool dup = false;
    for (auto& existing : muted) {
      if (existing.conversation_id == m->conversation_id) {
        existing.until = m->until;
        dup = true;
      }
    }
    if (!dup) muted.push_back(std::move(*m));
  }
  return muted;
}

// Applies the fields present in `body` to `p`.
Status ApplyPreferences(const json::object& body, Preferences& p) {
  if (auto v = OptionalBool(body, "push_enabled"); !v) {
    return std::move(v).error();
  } else if (*v) {
    p.push_enabled = **v;
  }
  if (auto v = OptionalBool(body, "show_previews"); !v) {
    return std::move(v).error();
  } else if (*v) {
    p.show_previews = **v;
  }
  if (auto v = OptionalString(body, "locale"); !v) {
    return std::move(v).error();
  } else if (*v) {
    auto loc = ParseLocale(**v);
    if (!loc) return Error::InvalidArgument("locale must be one of en, th, id, ms, fil, vi");
    p.locale = std::string(LocaleCode(*loc));
  }
  if (auto v = OptionalString(body, "timezone"); !v) {
    return std::move(v).error();
  } else if (*v) {
    if (!IsValidTimeZone(**v)) return Error::InvalidArgument("timezone is not an IANA time zone");
    p.timezone = **v;
  }
  if (auto it = body.find("quiet_hours"); it != body.end()) {
    if (it->value().is_null()) {
      p.quiet.reset();
    } else if (!it->value().is_object()) {
      return Error::InvalidArgument("quiet_hours must be an object or null");
    } else {
      auto q = ParseQuietHours(it->value().as_object(), p.timezone);
      if (!q) return std::move(q).error();
      p.quiet = std::move(*q);
    }
  }
  if (auto it = body.find("muted_conversations"); it != body.end()) {
    auto muted = ParseMutes(it->value());
    if (!muted) return std::move(muted).error();
    p.muted = std::move(*muted);
  }
  return Ok();
}

// POST /v1/devices {platform, token}
Task<Response> RegisterDevice(Request& req) {
  auto uid = http::CallerId(req);
  if (!uid) co_return Response::FromError(uid.error());
  auto body = ParseJsonObject(req.body);
  if (!body) co_return Response::FromError(body.error());
  auto platform = RequireString(*body, "platform");
  if (!platform) co_return Response::FromError(platform.error());
  if (*platform != "android" && *platform != "ios" && *platform != "web") {
    co_return Response::FromError(Error::InvalidArgument("platform must be android, ios or web"));
  }
  auto token = RequireString(*body, "token");
  if (!token) co_return Response::FromError(token.error());
  if (token->empty() || token->size() > 4096 || !PrintableToken(*token)) {
    co_return Response::FromError(
        Error::InvalidArgument("token must be 1-4096 printable ASCII characters"));
  }
  // A named value, not a temporary: GCC 12 destroys some temporaries of a
  // co_await expression twice.
  std::string session = req.auth ? req.auth->session_id : std::string();
  if (!IsUuid(session)) session.clear();
  auto d = co_await UpsertDevice(Db(req), *uid, session, *platform, *token);
  if (!d) co_return Response::FromError(d.error());
  co_return Response::Json(201, DeviceJson(*d));
}

// GET /v1/devices
Task<Response> GetDevices(Request& req) {
  auto uid = http::CallerId(req);
  if (!uid) co_return Response::FromError(uid.error());
  auto list = co_await ListDevices(Db(req), *uid);
  if (!list) co_return Response::FromError(list.error());
  json::array out;
  for (const auto& d : *list) out.push_back(DeviceJson(d));
  co_return Response::Json(200, json::object{{"devices", std::move(out)}});
}

// DELETE /v1/devices/{id}
Task<Response> RemoveDevice(Request& req) {
  auto uid = http::CallerId(req);
  if (!uid) co_return Response::FromError(uid.error());
  const std::string id(req.PathParam("id"));
  if (!IsUuid(id)) co_return Response::FromError(Error::NotFound("no such device"));
  auto gone = co_await DeleteDevice(Db(req), *uid, id);
  if (!gone) co_return Response::FromError(gone.error());
  if (!*gone) co_return Response::FromError(Error::NotFound("no such device"));
  co_return Response::NoContent();
}

// GET /v1/notifications?limit&cursor&unread_only
Task<Response> GetInbox(Request& req) {
  auto uid = http::CallerId(req);
  if (!uid) co_return Response::FromError(uid.error());
  auto limit = Limit(req);
  if (!limit) co_return Response::FromError(limit.error());
  auto cursor = InboxCursorQuery(req);
  if (!cursor) co_return Response::FromError(cursor.error());
  auto unread = BoolQuery(req, "unread_only");
  if (!unread) co_return Response::FromError(unread.error());
  // From the primary, every page: the service writes the inbox continuously, so
  // even a later page can hold entries milliseconds old, which a replica within its
  // lag bound may not have yet (docs/operations/read-replica.md).
  auto page = co_await ListInbox(Db(req), *uid, *limit, *cursor, *unread);
  if (!page) co_return Response::FromError(page.error());
  json::object out{{"notifications", std::move(page->notifications)},
                   {"unread_count", page->unread_count}};
  if (page->next_cursor) {
    out["next_cursor"] = *page->next_cursor;
  } else {
    out["next_cursor"] = nullptr;
  }
  co_return Response::Json(200, out);
}

// POST /v1/notifications/read-all
Task<Response> ReadAll(Request& req) {
  auto uid = http::CallerId(req);
  if (!uid) co_return Response::FromError(uid.error());
  auto n = co_await MarkAllRead(Db(req), *uid);
  if (!n) co_return Response::FromError(n.error());
  co_return Response::NoContent();
}

// POST /v1/notifications/{id}/read
Task<Response> ReadOne(Request& req) {
  auto uid = http::CallerId(req);
  if (!uid) co_return Response::FromError(uid.error());
  const std::string id(req.PathParam("id"));
  if (!IsUuid(id)) co_return Response::FromError(Error::NotFound("no such notification"));
  auto ok = co_await MarkRead(Db(req), *uid, id);
  if (!ok) co_return Response::FromError(ok.error());
  if (!*ok) co_return Response::FromError(Error::NotFound("no such notification"));
  co_return Response::NoContent();
}

// GET /v1/notification-preferences
Task<Response> GetPrefs(Request& req) {
  auto uid = http::CallerId(req);
  if (!uid) co_return Response::FromError(uid.error());
  auto p = co_await GetPreferences(Db(req), *uid);
  if (!p) co_return Response::FromError(p.error());
  co_return Response::Json(200, PreferencesJson(*p));
}

// PUT /v1/notification-preferences: the fields present replace the stored ones.
Task<Response> PutPrefs(Request& req) {
  auto uid = http::CallerId(req);
  if (!uid) co_return Response::FromError(uid.error());
  auto body = ParseJsonObject(req.body);
  if (!body) co_return Response::FromError(body.error());
  auto current = co_await GetPreferences(Db(req), *uid);
  if (!current) co_return Response::FromError(current.error());
  Preferences p = std::move(*current);
  if (auto st = ApplyPreferences(*body, p); !st) co_return Response::FromError(st.error());
  if (auto st = co_await PutPreferences(Db(req), *uid, p); !st) {
    co_return Response::FromError(st.error());
  }
  auto saved = co_await GetPreferences(Db(req), *uid);
  if (!saved) co_return Response::FromError(saved.error());
  co_return Response::Json(200, PreferencesJson(*saved));
}

// GET /v1/admin/dead-letters?limit&cursor&include_redriven
Task<Response> GetDeadLetters(Request& req, const std::string& admin_token) {
  if (auto st = CheckAdmin(req, admin_token); !st) co_return Response::FromError(st.error());
  auto limit = Limit(req);
  if (!limit) co_return Response::FromError(limit.error());
  auto cursor = Cursor(req);
  if (!cursor) co_return Response::FromError(cursor.error());
  auto all = BoolQuery(req, "include_redriven");
  if (!all) co_return Response::FromError(all.error());
  auto r = co_await ListDeadLetters(Db(req), *limit, *cursor, *all);
  if (!r) co_return Response::FromError(r.error());
  co_return Response::Json(200, *r);
}

// The body of POST /v1/admin/dead-letters/redrive: {ids?: [uuid], limit?: 1-10000}.
struct RedriveRequest {
  std::vector<std::string> ids;  // empty: any
  int limit = 1000;
  bool none = false;  // "ids" was given and empty: nothing to do
};

Result<RedriveRequest> ParseRedrive(std::string_view text) {
  RedriveRequest r;
  if (text.empty()) return r;
  auto body = ParseJsonObject(text);
  if (!body) return std::move(body).error();
  if (auto it = body->find("ids"); it != body->end()) {
    if (!it->value().is_array() || it->value().as_array().size() > 1000) {
      return Error::InvalidArgument("ids must be an array of at most 1000 ids");
    }
    for (const auto& v : it->value().as_array()) {
      if (!v.is_string() || !IsUuid(v.as_string())) {
        return Error::InvalidArgument("ids must be UUIDs");
      }
      r.ids.emplace_back(v.as_string());
    }
    if (r.ids.empty()) {
      r.none = true;
      return r;
    }
  }
  auto l = OptionalInt(*body, "limit");
  if (!l) return std::move(l).error();
  if (*l) {
    if (**l < 1 || **l > 10000) return Error::InvalidArgument("limit must be 1-10000");
    r.limit = static_cast<int>(**l);
  }
  return r;
}

// POST /v1/admin/dead-letters/redrive
Task<Response> RedriveMany(Request& req, const std::string& admin_token) {
  if (auto st = CheckAdmin(req, admin_token); !st) co_return Response::FromError(st.error());
  auto r = ParseRedrive(req.body);
  if (!r) co_return Response::FromError(r.error());
  if (r->none) co_return Response::Json(200, json::object{{"redriven", 0}});
  auto n = co_await RedriveDeadLetters(Db(req), r->ids, r->limit);
  if (!n) co_return Response::FromError(n.error());
  co_return Response::Json(200, json::object{{"redriven", *n}});
}

// POST /v1/admin/dead-letters/{id}/redrive
Task<Response> RedriveOne(Request& req, const std::string& admin_token) {
  if (auto st = CheckAdmin(req, admin_token); !st) co_return Response::FromError(st.error());
  const std::string id(req.PathParam("id"));
  if (!IsUuid(id)) co_return Response::FromError(Error::NotFound("no such dead letter"));
  const std::vector<std::string> ids{id};
  auto n = co_await RedriveDeadLetters(Db(req), ids, 1);
  if (!n) co_return Response::FromError(n.error());
  if (*n == 0) {
    co_return Response::FromError(Error::NotFound("no such dead letter, or already re-driven"));
  }
  co_return Response::Json(200, json::object{{"redriven", *n}});
}

// GET /v1/admin/poison-events?limit
Task<Response> GetPoisonEvents(Request& req, const std::string& admin_token) {
  if (auto st = CheckAdmin(req, admin_token); !st) co_return Response::FromError(st.error());
  auto limit = Limit(req);
  if (!limit) co_return Response::FromError(limit.error());
  auto r = co_await ListPoisonEvents(Db(req), *limit);
  if (!r) co_return Response::FromError(r.error());
  co_return Response::Json(200, *r);
}

using AdminHandler = Task<Response> (*)(Request&, const std::string& admin_token);

// An admin route: `h` with the configured token. The route keeps the token for
// as long as the router lives (longer than any request).
http::Handler Admin(AdminHandler h, const std::string& admin_token) {
  return [h, admin_token](Request& req) { return h(req, admin_token); };
}

}  // namespace

void RegisterRoutes(http::Router& router, std::string admin_token) {
  router.Post("/v1/devices", RegisterDevice);
  router.Get("/v1/devices", GetDevices);
  router.Delete("/v1/devices/{id}", RemoveDevice);
  router.Get("/v1/notifications", GetInbox);
  router.Post("/v1/notifications/read-all", ReadAll);
  router.Post("/v1/notifications/{id}/read", ReadOne);
  router.Get("/v1/notification-preferences", GetPrefs);
  router.Put("/v1/notification-preferences", PutPrefs);

  const http::RouteOptions admin{.authenticated = false, .quiet = false};
  router.Get("/v1/admin/dead-letters", Admin(GetDeadLetters, admin_token), admin);
  router.Post("/v1/admin/dead-letters/redrive", Admin(RedriveMany, admin_token), admin);
  router.Post("/v1/admin/dead-letters/{id}/redrive", Admin(RedriveOne, admin_token), admin);
  router.Get("/v1/admin/poison-events", Admin(GetPoisonEvents, admin_token), admin);
}

}  // namespace tchat::notification
