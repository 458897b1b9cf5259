#include <atomic>
#include <string>

#include <unistd.h>

#include <tchat/core/log.hpp>
#include <tchat/core/time.hpp>

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
  AppendRfc3339Ms(line, NowUnixMs());
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
