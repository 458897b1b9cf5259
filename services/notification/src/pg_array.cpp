#include "pg_array.hpp"

namespace tchat::notification {

void PgArray::Add(std::string_view v) {
  if (size_++ > 0) body_.push_back(',');
  body_.push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') body_.push_back('\\');
    body_.push_back(c);
  }
  body_.push_back('"');
}

void PgArray::AddNull() {
  if (size_++ > 0) body_.push_back(',');
  body_ += "NULL";
}

void PgArray::Append(const PgArray& other) {
  if (other.size_ == 0) return;
  if (size_ > 0) body_.push_back(',');
  body_ += other.body_;
  size_ += other.size_;
}

std::optional<std::vector<std::string>> ParsePgArray(std::string_view s) {
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return std::nullopt;
  std::vector<std::string> out;
  std::size_t i = 1;
  const std::size_t end = s.size() - 1;
  if (i == end) return out;
  while (i <= end) {
    std::string v;
    bool quoted = false;
    if (s[i] == '"') {
      quoted = true;
      ++i;
      while (i < end && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < end) ++i;
        v.push_back(s[i++]);
      }
      if (i >= end) return std::nullopt;
      ++i;  // closing quote
    } else {
      while (i < end && s[i] != ',') v.push_back(s[i++]);
    }
    if (quoted || v != "NULL") out.push_back(std::move(v));
    if (i == end) break;
    if (s[i] != ',') return std::nullopt;
    ++i;
  }
  return out;
}

}  // namespace tchat::notification
