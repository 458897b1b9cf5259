#include <algorithm>
#include <cstring>

#include <tchat/core/time.hpp>

namespace tchat {

namespace chr = std::chrono;

namespace {

// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in Unix seconds: the range of
// four-digit years.
constexpr std::int64_t kMinSecs = -62'167'219'200;
constexpr std::int64_t kMaxSecs = 253'402'300'799;

void Put2(char* p, std::int64_t v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// Writes "YYYY-MM-DDTHH:MM:SS." (20 bytes) for Unix second `secs` to `p`.
void FormatSecond(std::int64_t secs, char* p) {
  secs = std::clamp(secs, kMinSecs, kMaxSecs);
  std::int64_t days = secs / 86400;
  std::int64_t second_of_day = secs % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    --days;
  }
  const chr::year_month_day ymd{chr::sys_days{chr::days{days}}};
  const int year = static_cast<int>(ymd.year());
  Put2(p, year / 100);
  Put2(p + 2, year % 100);
  p[4] = '-';
  Put2(p + 5, static_cast<unsigned>(ymd.month()));
  p[7] = '-';
  Put2(p + 8, static_cast<unsigned>(ymd.day()));
  p[10] = 'T';
  Put2(p + 11, second_of_day / 3600);
  p[13] = ':';
  Put2(p + 14, second_of_day / 60 % 60);
  p[16] = ':';
  Put2(p + 17, second_of_day % 60);
  p[19] = '.';
}

}  // namespace

std::int64_t UnixMillis(SysTime t) {
  return chr::duration_cast<chr::milliseconds>(t.time_since_epoch()).count();
}

std::int64_t UnixSeconds(SysTime t) {
  return chr::duration_cast<chr::seconds>(t.time_since_epoch()).count();
}

SysTime FromUnixMillis(std::int64_t unix_ms) {
  return SysTime(chr::duration_cast<SysTime::duration>(chr::milliseconds(unix_ms)));
}

std::int64_t NowUnixMs() {
  return UnixMillis(chr::system_clock::now());
}

void AppendRfc3339Ms(std::string& out, std::int64_t unix_ms) {
  std::int64_t secs = unix_ms / 1000;
  std::int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  // Messages sent together share their second: format it once per thread.
  thread_local std::int64_t cached_secs = INT64_MIN;
  thread_local char cached[20];
  if (secs != cached_secs) {
    FormatSecond(secs, cached);
    cached_secs = secs;
  }
  char buf[24];
  std::memcpy(buf, cached, sizeof cached);
  buf[20] = static_cast<char>('0' + ms / 100);
  Put2(buf + 21, ms % 100);
  buf[23] = 'Z';
  out.append(buf, sizeof buf);
}

std::string FormatRfc3339Ms(std::int64_t unix_ms) {
  std::string out;
  out.reserve(24);
  AppendRfc3339Ms(out, unix_ms);
  return out;
}

std::string FormatRfc3339Ms(SysTime t) {
  return FormatRfc3339Ms(chr::floor<chr::milliseconds>(t.time_since_epoch()).count());
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

}  // namespace tchat
