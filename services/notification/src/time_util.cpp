#include "time_util.hpp"

#include <cstdio>

namespace tchat::notification {

namespace chr = std::chrono;

std::string FormatRfc3339(SysTime t) {
  const auto ms = chr::floor<chr::milliseconds>(t);
  const auto day = chr::floor<chr::days>(ms);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss hms{ms - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

std::optional<SysTime> ParseRfc3339(std::string_view s) {
  std::size_t i = 0;
  auto num = [&](int digits) -> int {
    if (i + static_cast<std::size_t>(digits) > s.size()) return -1;
    int v = 0;
    for (int k = 0; k < digits; ++k) {
      const char c = s[i++];
      if (c < '0' || c > '9') return -1;
      v = v * 10 + (c - '0');
    }
    return v;
  };
  auto expect = [&](std::string_view chars) {
    if (i >= s.size() || chars.find(s[i]) == std::string_view::npos) return false;
    ++i;
    return true;
  };
  const int y = num(4);
  if (y < 0 || !expect("-")) return std::nullopt;
  const int mo = num(2);
  if (mo < 0 || !expect("-")) return std::nullopt;
  const int d = num(2);
  if (d < 0 || !expect("Tt ")) return std::nullopt;
  const int h = num(2);
  if (h < 0 || !expect(":")) return std::nullopt;
  const int mi = num(2);
  if (mi < 0 || !expect(":")) return std::nullopt;
  const int sec = num(2);
  if (sec < 0 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  chr::nanoseconds frac{0};
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    std::int64_t ns = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 9) {
        ns = ns * 10 + (s[i] - '0');
        ++digits;
      }
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (int k = digits; k < 9; ++k) ns *= 10;
    frac = chr::nanoseconds(ns);
  }
  chr::minutes offset{0};
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const bool neg = s[i] == '-';
    ++i;
    const int oh = num(2);
    if (oh < 0 || !expect(":")) return std::nullopt;
    const int om = num(2);
    if (om < 0 || oh > 23 || om > 59) return std::nullopt;
    offset = chr::minutes(oh * 60 + om) * (neg ? -1 : 1);
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const chr::year_month_day ymd{chr::year{y}, chr::month{static_cast<unsigned>(mo)},
                                chr::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  const auto tp =
      chr::sys_days{ymd} + chr::hours{h} + chr::minutes{mi} + chr::seconds{sec} - offset;
  return chr::time_point_cast<SysTime::duration>(tp + frac);
}

std::int64_t UnixMillis(SysTime t) {
  return chr::duration_cast<chr::milliseconds>(t.time_since_epoch()).count();
}

SysTime FromUnixMillis(std::int64_t ms) {
  return SysTime(chr::duration_cast<SysTime::duration>(chr::milliseconds(ms)));
}

}  // namespace tchat::notification
