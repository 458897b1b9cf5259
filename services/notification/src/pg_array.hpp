#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tchat::notification {

// Builds a PostgreSQL array literal in text form ({"a","b",NULL}) so that a batch
// of rows travels as one parameter per column and the SQL text stays fixed
// (prepared once per connection): INSERT ... SELECT FROM unnest($1::text[], ...).
// Every element is quoted and escaped; nullopt elements are NULL.
class PgArray {
 public:
  void Add(std::string_view v);
  void AddNull();
  void AddOptional(const std::optional<std::string>& v) { v ? Add(*v) : AddNull(); }
  // Appends every element of `other` (in order).
  void Append(const PgArray& other);
  std::size_t size() const { return size_; }
  // The literal; "{}" when empty.
  std::string str() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
  std::size_t size_ = 0;
};

template <typename Range>
std::string ToPgArray(const Range& values) {
  PgArray a;
  for (const auto& v : values) a.Add(v);
  return a.str();
}

// Parses a one-dimensional text-format array as PostgreSQL prints it ({a,"b c",NULL}).
// NULL elements are dropped. nullopt when malformed.
std::optional<std::vector<std::string>> ParsePgArray(std::string_view text);

}  // namespace tchat::notification
