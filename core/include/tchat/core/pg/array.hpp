#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// PostgreSQL one-dimensional arrays in text form, so that a batch of rows
// travels as one parameter per column and the SQL text stays fixed (prepared
// once per connection): INSERT ... SELECT FROM unnest($1::text[], $2::uuid[]).
namespace tchat::pg {

// Builds an array literal ({"a","b",NULL}). Every element is quoted and escaped,
// so any text is safe; the server casts the elements to the parameter's type
// (uuid, bigint, ...). A plain value; not shared.
class ArrayBuilder {
 public:
  void Add(std::string_view v);
  void AddNull();
  void AddOptional(const std::optional<std::string>& v) { v ? Add(*v) : AddNull(); }
  // Appends every element of `other`, in order.
  void Append(const ArrayBuilder& other);
  std::size_t size() const { return size_; }
  // The literal; "{}" when empty.
  std::string str() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
  std::size_t size_ = 0;
};

// The literal of a range of strings (or string views).
template <typename Range>
std::string ToArray(const Range& values) {
  ArrayBuilder a;
  for (const auto& v : values) a.Add(v);
  return a.str();
}

// Parses an array as PostgreSQL prints it ({a,"b c",NULL}). NULL elements are
// dropped. nullopt when `text` is not a one-dimensional array literal.
std::optional<std::vector<std::string>> ParseArray(std::string_view text);

}  // namespace tchat::pg
