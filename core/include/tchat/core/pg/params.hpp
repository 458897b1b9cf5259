#pragma once

#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/container/small_vector.hpp>

namespace tchat::pg {

// The text-format parameters of one statement ($1, $2, ...), owned and packed into
// a single buffer so a query with a handful of short parameters allocates at most
// once. Values are sent as text and typed by the server from the statement, so
// `WHERE id = $1` takes an int64 or a string alike. A plain value; not shared.
class Params {
 public:
  Params() = default;

  template <typename... Args>
  static Params Of(const Args&... args) {
    Params p;
    (p.Add(args), ...);
    return p;
  }

  void AddNull() { offsets_.push_back(-1); }
  // Text must not contain NUL bytes (PostgreSQL text cannot hold them).
  void Add(std::string_view v) { AddText(v.data(), v.size()); }
  void Add(const std::string& v) { Add(std::string_view(v)); }
  // nullptr is NULL.
  void Add(const char* v) { v ? Add(std::string_view(v)) : AddNull(); }
  void Add(bool v) { AddText(v ? "t" : "f", 1); }
  void Add(double v);
  template <std::integral T>
  requires(!std::same_as<T, bool>) void Add(T v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    AddText(buf, static_cast<std::size_t>(r.ptr - buf));
  }
  void Add(std::nullptr_t) { AddNull(); }
  void Add(std::nullopt_t) { AddNull(); }
  template <typename T>
  void Add(const std::optional<T>& v) {
    v ? Add(*v) : AddNull();
  }

  int size() const { return static_cast<int>(offsets_.size()); }
  bool IsNull(int i) const { return offsets_[static_cast<std::size_t>(i)] < 0; }
  // Writes size() pointers to NUL-terminated values (nullptr for NULL) to `out`.
  // They stay valid until the next Add or until this object is moved or destroyed.
  void Fill(const char** out) const;

 private:
  void AddText(const char* data, std::size_t n);

  std::string buf_;  // values back to back, each followed by '\0'
  boost::container::small_vector<std::int32_t, 8> offsets_;  // into buf_, -1 = NULL
};

// One statement of a pipeline. `sql` must outlive the call it is passed to (string
// literals in practice); it is also the key of the per-connection statement cache.
struct Statement {
  std::string_view sql;
  Params params;

  template <typename... Args>
  static Statement Of(std::string_view sql, const Args&... args) {
    return Statement{sql, Params::Of(args...)};
  }
};

}  // namespace tchat::pg
