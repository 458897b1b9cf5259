// Server::State's request bodies: the limits per route and the streaming of a
// body to a route's sink (RouteOptions::open_sink).
#include <algorithm>

#include <tchat/core/log.hpp>

#include "server_state.hpp"

namespace tchat::http {

namespace asio = boost::asio;

std::uint64_t Server::State::BodyLimit(const RouteMatch& match) const {
  if (match.route != nullptr && match.route->options.max_body_bytes != 0) {
    return match.route->options.max_body_bytes;
  }
  return opts.max_body_bytes;
}

// The parser's limit while it reads a header: the largest body any route takes
// (Beast refuses a Content-Length over it before the route is known).
std::uint64_t Server::State::HeaderBodyLimit() const {
  std::uint64_t most = opts.max_body_bytes;
  for (const auto& r : router.routes()) most = std::max(most, r->options.max_body_bytes);
  return most;
}

asio::awaitable<std::optional<Response>> Server::State::PrepareBody(Request& req,
                                                                    RequestParser& parser,
                                                                    const RouteMatch& match,
                                                                    bool& admitted) {
  const std::uint64_t limit = BodyLimit(match);
  if (auto length = parser.content_length(); length && *length > limit) {
    co_return Response::FromError(
        Error::PayloadTooLarge("request body exceeds " + std::to_string(limit) + " bytes"));
  }
  parser.body_limit(limit);
  const Route* route = match.route;
  if (route == nullptr || !route->options.open_sink || parser.is_done()) co_return std::nullopt;
  // A streaming route: the caller is checked before any of the body is read.
  req.path_params = match.params;
  Response denied;
  if (!Admit(req, match, denied)) co_return denied;
  Result<std::shared_ptr<BodySink>> sink = Error::Internal("no sink");
  try {
    sink = co_await route->options.open_sink(req);
  } catch (const std::exception& e) {
    log::Error("open_sink threw",
               {{"request_id", req.request_id}, {"route", route->pattern}, {"error", e.what()}});
    co_return Response::FromError(Error::Internal("internal error"));
  }
  if (!sink) co_return Response::FromError(sink.error());
  req.body_sink = std::move(*sink);
  parser.StreamTo(req.body_sink.get());
  admitted = true;
  co_return std::nullopt;
}

}  // namespace tchat::http
