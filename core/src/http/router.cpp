#include <algorithm>
#include <string>

#include <tchat/core/http/router.hpp>

namespace tchat::http {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsParam(std::string_view seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

void Router::Add(Method method, std::string pattern, Handler handler, RouteOptions options) {
  auto r = std::make_unique<Route>();
  r->method = method;
  for (auto seg : SplitPath(pattern)) r->segments.emplace_back(seg);
  r->pattern = std::move(pattern);
  r->handler = std::move(handler);
  r->options = options;
  // Only templates written the way paths arrive ("/a/b", no doubled or trailing
  // slash) are indexed; the scan finds the others as before.
  const std::string_view p = r->pattern;
  const bool canonical = p == "/" || (p.starts_with('/') && !p.ends_with('/') &&
                                      p.find("//") == std::string_view::npos);
  const bool literal = std::none_of(r->segments.begin(), r->segments.end(),
                                    [](const std::string& seg) { return IsParam(seg); });
  if (canonical && literal) literal_[r->pattern].push_back(r.get());
  routes_.push_back(std::move(r));
}

void Router::WebSocketRoute(std::string pattern, WebSocketHandler h, RouteOptions o) {
  Add(Method::kGet, std::move(pattern), nullptr, o);
  routes_.back()->ws_handler = std::move(h);
}

RouteMatch Router::Match(Method method, std::string_view path) const {
  RouteMatch result;
  if (path.find("//") != std::string_view::npos) return result;
  if (auto it = literal_.find(path); it != literal_.end()) {
    for (const Route* r : it->second) {
      if (r->method == method) {
        result.route = r;
        return result;
      }
    }
    // Another method: the scan below gathers the Allow list.
  }
  auto segs = SplitPath(path);
  // Score: literal matches rank above parameter matches, position by position,
  // so "/v1/users/me" beats "/v1/users/{id}" regardless of registration order.
  const Route* best = nullptr;
  std::uint64_t best_score = 0;
  std::string allow;
  for (const auto& route : routes_) {
    if (route->segments.size() != segs.size()) continue;
    std::uint64_t score = 1;
    bool ok = true;
    for (std::size_t i = 0; i < segs.size(); ++i) {
      const std::string& want = route->segments[i];
      if (IsParam(want)) {
        if (segs[i].empty()) {
          ok = false;
          break;
        }
        score <<= 1;
      } else if (want == segs[i]) {
        score = (score << 1) | 1;
      } else {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (route->method != method) {
      if (allow.find(MethodName(route->method)) == std::string::npos) {
        if (!allow.empty()) allow += ", ";
        allow += MethodName(route->method);
      }
      continue;
    }
    if (best == nullptr || score > best_score) {
      best = route.get();
      best_score = score;
    }
  }
  if (best == nullptr) {
    if (!allow.empty()) {
      result.method_not_allowed = true;
      result.allow = std::move(allow);
    }
    return result;
  }
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const std::string& want = best->segments[i];
    if (!IsParam(want)) continue;
    auto decoded = PercentDecode(segs[i], /*plus_as_space=*/false);
    if (!decoded) return RouteMatch{};  // malformed escape: treat as no route
    result.params.emplace_back(std::string_view(want).substr(1, want.size() - 2),
                               std::move(*decoded));
  }
  result.route = best;
  return result;
}

}  // namespace tchat::http
