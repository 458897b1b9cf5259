#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include <unistd.h>

#include <tchat/core/log.hpp>

namespace tchat::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::string g_service = "tchat";

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

// RFC 3339 UTC with milliseconds, e.g. 2026-11-26T22:27:46.123Z.
void AppendTimestamp(std::string& out) {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        static_cast<int>(ms % 1000));
  out.append(buf, static_cast<std::size_t>(n));
}

}  // namespace

void SetService(std::string_view service) {
  g_service = std::string(service);
}
void SetLevel(Level level) {
  g_level.store(static_cast<int>(level));
}
bool Enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

Level ParseLevel(std::string_view name, Level fallback) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  return fallback;
}

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(160);
  line += "{\"ts\":\"";
  AppendTimestamp(line);
  line += "\",\"level\":\"";
  line += LevelName(level);
  line += "\",\"service\":";
  line += json::serialize(json::string(g_service));
  line += ",\"msg\":";
  line += json::serialize(json::string(msg));
  for (const Field& f : fields) {
    line += ',';
    line += json::serialize(json::string(f.key));
    line += ':';
    line += json::serialize(f.value);
  }
  line += "}\n";
  // One write(2) per line keeps lines whole when several threads log at once.
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace tchat::log
