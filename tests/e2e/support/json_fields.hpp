#pragma once

// Lenient field access for assertions on JSON answers: a missing or mistyped field
// gives an empty value (which the assertion then reports) instead of throwing.

#include <cstdint>
#include <string>
#include <string_view>

#include <tchat/core/json.hpp>

namespace tchat::e2e {

// o[key] as a string, or "".
inline std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// o[key] as an integer, or -1.
inline std::int64_t Int(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return -1;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return -1;
}

// o[key] as an object, or an empty one.
inline const json::object& Obj(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? v->get_object() : kEmpty;
}

// o[key] as an array, or an empty one.
inline const json::array& Arr(const json::object& o, std::string_view key) {
  static const json::array kEmpty;
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? v->get_array() : kEmpty;
}

}  // namespace tchat::e2e
