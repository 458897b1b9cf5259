#include "media_handlers.hpp"

#include <charconv>

#include <tchat/core/utf8.hpp>
#include <tchat/core/uuid.hpp>
#include <tchat/core/worker.hpp>

#include "config.hpp"
#include "media_service.hpp"
#include "messaging_worker.hpp"

namespace tchat::messaging {

namespace {

using http::Request;
using http::Response;

MediaService& Media(Request& req) {
  return *req.worker->Get<MessagingWorker>().media;
}

std::optional<std::uint64_t> ContentLength(const Request& req) {
  const std::string_view v = req.Header("content-length");
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return n;
}

Result<UploadParams> ParseUploadParams(const Request& req) {
  UploadParams p;
  if (auto kind = req.Query("kind")) {
    if (*kind != "voice") return Error::InvalidArgument("kind: only voice may be asked for");
    p.want_voice = true;
  }
  if (auto name = req.Query("filename")) {
    if (name->empty() || name->size() > 255 || !ValidUtf8(*name) ||
        name->find_first_of(std::string_view("/\\\0\r\n", 5)) != std::string::npos) {
      return Error::InvalidArgument("filename: 1 to 255 bytes of UTF-8 without / \\ or controls");
    }
    p.filename = std::move(*name);
  }
  if (auto d = req.Query("duration_ms")) {
    int ms = 0;
    auto [ptr, ec] = std::from_chars(d->data(), d->data() + d->size(), ms);
    if (ec != std::errc() || ptr != d->data() + d->size() || ms < 1 || ms > 30 * 60 * 1000) {
      return Error::InvalidArgument("duration_ms: 1 to 1800000");
    }
    p.duration_ms = ms;
  }
  return p;
}

Task<Result<std::shared_ptr<http::BodySink>>> OpenUploadSink(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return std::move(user).error();
  auto params = ParseUploadParams(req);
  if (!params) co_return std::move(params).error();
  auto sink = co_await Media(req).OpenUpload(*user, ContentLength(req), params->want_voice);
  if (!sink) co_return std::move(sink).error();
  co_return std::shared_ptr<http::BodySink>(std::move(*sink));
}

Task<Response> Upload(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  auto params = ParseUploadParams(req);
  if (!params) co_return Response::FromError(params.error());
  auto* sink = dynamic_cast<UploadSink*>(req.body_sink.get());
  if (sink == nullptr) co_return Response::FromError(Error::InvalidArgument("the upload is empty"));
  auto& media = Media(req);
  auto row = co_await media.FinishUpload(*user, *sink, *params);
  if (!row) co_return Response::FromError(row.error());
  co_return Response::Json(201, media.Describe(*row));
}

Task<Response> GetMedia(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  auto id = CanonicalUuid(req.PathParam("id"));
  if (!id) co_return Response::FromError(Error::NotFound("media not found"));
  auto o = co_await Media(req).Describe(*user, *id);
  if (!o) co_return Response::FromError(o.error());
  const std::string variant = req.Query("variant").value_or("");
  if (!variant.empty() && variant != "thumb" && variant != "display" && variant != "original") {
    co_return Response::FromError(Error::InvalidArgument("variant: original, thumb or display"));
  }
  if (req.Query("redirect").value_or("") == "true") {
    const char* key = variant == "thumb"     ? "thumbnail_url"
                      : variant == "display" ? "display_url"
                                             : "url";
    const json::value* url = o->if_contains(key);
    if (url == nullptr) co_return Response::FromError(Error::NotFound("no such variant"));
    Response r;
    r.status = 302;
    r.content_type = "text/plain; charset=utf-8";
    r.headers.emplace_back("Location", std::string(url->get_string()));
    r.headers.emplace_back("Cache-Control", "no-store");
    co_return r;
  }
  co_return Response::Json(200, *o);
}

// Behind the gateway only: answers a valid signed URL with X-Accel-Redirect, and
// nginx serves the file from its internal /_media/ location.
Task<Response> ServeMedia(Request& req) {
  auto t = co_await Media(req).Serve(std::string(req.PathParam("id")),
                                     std::string(req.PathParam("variant")),
                                     req.Query("exp").value_or(""), req.Query("sig").value_or(""));
  if (!t) co_return Response::FromError(t.error());
  Response r;
  r.status = 200;
  r.content_type = t->content_type;
  r.headers.emplace_back("X-Accel-Redirect", t->accel_path);
  r.headers.emplace_back("Content-Disposition", t->disposition);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "private, max-age=3600, immutable");
  co_return r;
}

// PUT /v1/media/avatars/me {"media_id"}: one of the caller's photos becomes their avatar.
Task<Response> SetAvatar(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  auto body = ParseJsonObject(req.body);
  if (!body) co_return Response::FromError(body.error());
  const json::value* v = body->if_contains("media_id");
  if (v == nullptr || !v->is_string() || body->size() != 1) {
    co_return Response::FromError(
        Error::InvalidArgument("the body is {\"media_id\": <upload id>}"));
  }
  auto id = CanonicalUuid(v->get_string());
  if (!id) co_return Response::FromError(Error::InvalidArgument("media_id must be an upload id"));
  auto o = co_await Media(req).SetAvatar(*user, *id);
  if (!o) co_return Response::FromError(o.error());
  co_return Response::Json(200, *o);
}

Task<Response> RemoveAvatar(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  if (Status st = co_await Media(req).RemoveAvatar(*user); !st) {
    co_return Response::FromError(st.error());
  }
  co_return Response::NoContent();
}

// GET /v1/media/avatars?user_ids=a,b: the avatars of those who have one.
Task<Response> ListAvatars(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  std::vector<std::string> ids;
  const std::string raw = req.Query("user_ids").value_or("");
  std::string_view rest = raw;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    auto id = CanonicalUuid(rest.substr(0, comma));
    if (!id)
      co_return Response::FromError(Error::InvalidArgument("user_ids: user ids, comma-separated"));
    ids.push_back(std::move(*id));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (ids.empty()) co_return Response::FromError(Error::InvalidArgument("user_ids is required"));
  if (ids.size() > 100)
    co_return Response::FromError(Error::InvalidArgument("at most 100 user_ids"));
  auto list = co_await Media(req).Avatars(ids);
  if (!list) co_return Response::FromError(list.error());
  co_return Response::Json(200, json::object{{"avatars", std::move(*list)}});
}

}  // namespace

void RegisterMediaRoutes(http::Router& router, const Config& config) {
  http::RouteOptions upload;
  upload.open_sink = OpenUploadSink;
  upload.max_body_bytes = config.media_limits.Largest();
  router.Post("/v1/media", Upload, upload);
  router.Get("/v1/media/{id}", GetMedia);
  router.Get("/v1/media/avatars", ListAvatars);
  router.Put("/v1/media/avatars/me", SetAvatar);
  router.Delete("/v1/media/avatars/me", RemoveAvatar);
  router.Get("/media/{id}/{variant}", ServeMedia, {.authenticated = false});
}

}  // namespace tchat::messaging
