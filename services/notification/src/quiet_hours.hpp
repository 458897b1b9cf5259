#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tchat::notification {

// IANA time zones through ICU (libstdc++ 12 has no std::chrono::locate_zone).
// Zones are cached per thread; every function is thread-safe.

// True for a zone ICU knows ("Asia/Bangkok", "UTC", ...).
bool IsValidTimeZone(std::string_view zone);

// The zone's UTC offset at `t` (DST included); nullopt for an unknown zone.
std::optional<std::chrono::seconds> UtcOffset(std::string_view zone,
                                              std::chrono::system_clock::time_point t);

// Minutes after local midnight (0..1439) at `t` in `zone`; nullopt for an unknown zone.
std::optional<int> LocalMinuteOfDay(std::string_view zone, std::chrono::system_clock::time_point t);

// "22:30" → 1350. nullopt unless HH:MM with HH 00-23 and MM 00-59.
std::optional<int> ParseClock(std::string_view hhmm);
// 1350 → "22:30".
std::string FormatClock(int minute_of_day);

// A daily window of local time in which pushes are held back. start > end wraps
// past midnight (22:00–07:00); start == end is an empty window. The window is
// [start, end): a push at exactly `end` goes out.
struct QuietHours {
  int start = 0;  // minutes after local midnight
  int end = 0;
  std::string timezone;
};

// Whether `t` falls inside the window in its time zone. An unknown zone counts as
// UTC, so a bad stored value never silences a user for good.
bool InQuietHours(const QuietHours& q, std::chrono::system_clock::time_point t);

}  // namespace tchat::notification
