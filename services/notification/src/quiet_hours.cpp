#include "quiet_hours.hpp"

#include <memory>
#include <string>
#include <unordered_map>

#include <unicode/timezone.h>
#include <unicode/unistr.h>

namespace tchat::notification {

namespace {

// One thread's zones; null entries remember unknown names.
const icu::TimeZone* FindZone(std::string_view zone) {
  thread_local std::unordered_map<std::string, std::unique_ptr<icu::TimeZone>> cache;
  std::string key(zone);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second.get();
  if (cache.size() > 4096) cache.clear();  // bounded: zone names come from users
  std::unique_ptr<icu::TimeZone> tz;
  if (!zone.empty() && zone.size() <= 64) {
    tz.reset(icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(
        icu::StringPiece(zone.data(), static_cast<std::int32_t>(zone.size())))));
    icu::UnicodeString id;
    if (tz != nullptr && tz->getID(id) == icu::UnicodeString(UCAL_UNKNOWN_ZONE_ID)) tz.reset();
  }
  const icu::TimeZone* out = tz.get();
  cache.emplace(std::move(key), std::move(tz));
  return out;
}

}  // namespace

bool IsValidTimeZone(std::string_view zone) {
  return FindZone(zone) != nullptr;
}

std::optional<std::chrono::seconds> UtcOffset(std::string_view zone,
                                              std::chrono::system_clock::time_point t) {
  const icu::TimeZone* tz = FindZone(zone);
  if (tz == nullptr) return std::nullopt;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  std::int32_t raw = 0;
  std::int32_t dst = 0;
  UErrorCode status = U_ZERO_ERROR;
  tz->getOffset(static_cast<UDate>(ms.count()), false, raw, dst, status);
  if (U_FAILURE(status)) return std::nullopt;
  return std::chrono::seconds((raw + dst) / 1000);
}

std::optional<int> LocalMinuteOfDay(std::string_view zone,
                                    std::chrono::system_clock::time_point t) {
  auto offset = UtcOffset(zone, t);
  if (!offset) return std::nullopt;
  const auto local = std::chrono::floor<std::chrono::minutes>(t.time_since_epoch() + *offset);
  const auto day = std::chrono::floor<std::chrono::days>(local);
  return static_cast<int>((local - day).count());
}

std::optional<int> ParseClock(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  auto digit = [&](std::size_t i) -> int { return s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1; };
  const int h1 = digit(0), h2 = digit(1), m1 = digit(3), m2 = digit(4);
  if (h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0) return std::nullopt;
  const int h = h1 * 10 + h2;
  const int m = m1 * 10 + m2;
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

std::string FormatClock(int minute_of_day) {
  const int h = minute_of_day / 60;
  const int m = minute_of_day % 60;
  std::string out(5, ':');
  out[0] = static_cast<char>('0' + h / 10);
  out[1] = static_cast<char>('0' + h % 10);
  out[3] = static_cast<char>('0' + m / 10);
  out[4] = static_cast<char>('0' + m % 10);
  return out;
}

bool InQuietHours(const QuietHours& q, std::chrono::system_clock::time_point t) {
  if (q.start == q.end) return false;
  auto minute = LocalMinuteOfDay(q.timezone, t);
  if (!minute) minute = LocalMinuteOfDay("UTC", t);
  const int now = minute.value_or(0);
  if (q.start < q.end) return now >= q.start && now < q.end;
  return now >= q.start || now < q.end;  // wraps past midnight
}

}  // namespace tchat::notification
