#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <tchat/core/json.hpp>

namespace tchat::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// One key/value pair of a structured log line; built implicitly from the usual
// value types so call sites read {{"user_id", id}, {"status", 200}}.
struct Field {
  Field(std::string_view k, json::value v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  template <typename T>
  requires std::is_integral_v<T> &&(!std::is_same_v<T, bool>)Field(std::string_view k, T v)
      : key(k), value(static_cast<std::int64_t>(v)) {}

  std::string_view key;
  json::value value;
};

// Process-wide settings; call once at start-up before other threads log.
void SetService(std::string_view service);
void SetLevel(Level level);
Level ParseLevel(std::string_view name, Level fallback);
bool Enabled(Level level);

// Writes one JSON line to stdout: {"ts","level","service","msg",...fields}.
// Thread-safe; each line is written with a single write(2). Never log secrets,
// tokens, OTP codes or raw bodies: callers choose their fields.
void Write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void Debug(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, msg, fields);
}
inline void Info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (Enabled(Level::kInfo)) Write(Level::kInfo, msg, fields);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (Enabled(Level::kWarn)) Write(Level::kWarn, msg, fields);
}
inline void Error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, msg, fields);
}

}  // namespace tchat::log
