#include "provider.hpp"

#include <charconv>
#include <ctime>

namespace tchat::notification {

std::optional<std::chrono::seconds> ParseRetryAfter(std::optional<std::string_view> value,
                                                    std::chrono::system_clock::time_point now) {
  if (!value || value->empty()) return std::nullopt;
  const std::string_view v = *value;
  constexpr std::int64_t kCap = 3600;
  std::int64_t secs = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (ec == std::errc() && ptr == v.data() + v.size()) {
    if (secs < 0) return std::nullopt;
    return std::chrono::seconds(std::min(secs, kCap));
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm tm{};
  const std::string s(v);
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const std::time_t at = timegm(&tm);
  const auto delta = std::chrono::system_clock::from_time_t(at) - now;
  const auto d = std::chrono::duration_cast<std::chrono::seconds>(delta).count();
  return std::chrono::seconds(std::clamp<std::int64_t>(d, 0, kCap));
}

SendResult ClassifyHttp(const httpclient::HttpResponse& r) {
  if (r.status >= 200 && r.status < 300) return {Outcome::kDelivered, {}, {}};
  std::string err = "http " + std::to_string(r.status);
  // Only 410: a wrong webhook URL (404) must not unregister every device.
  if (r.status == 410) return {Outcome::kUnregistered, err, {}};
  if (r.status == 408 || r.status == 425 || r.status == 429 || r.status >= 500) {
    return {Outcome::kRetryable, err,
            ParseRetryAfter(r.headers.Get("Retry-After"), std::chrono::system_clock::now())};
  }
  return {Outcome::kPermanent, err, {}};
}

}  // namespace tchat::notification
