#include <tchat/core/pg/array.hpp>

namespace tchat::pg {

void ArrayBuilder::Add(std::string_view v) {
  if (size_++ > 0) body_.push_back(',');
  body_.push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') body_.push_back('\\');
    body_.push_back(c);
  }
  body_.push_back('"');
}

void ArrayBuilder::AddNull() {
  if (size_++ > 0) body_.push_back(',');
  body_ += "NULL";
}

void ArrayBuilder::Append(const ArrayBuilder& other) {
  if (other.size_ == 0) return;
  if (size_ > 0) body_.push_back(',');
  body_ += other.body_;
  size_ += other.size_;
}

std::optional<std::vector<std::string>> ParseArray(std::string_view s) {
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return std::nullopt;
  std::vector<std::string> out;
  std::size_t i = 1;
  const std::size_t end = s.size() - 1;
  if (i == end) return out;
  while (i <= end) {
    if (s[i] == '"') {
      std::string v;
      ++i;
      while (i < end && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < end) ++i;
        v.push_back(s[i++]);
      }
      if (i >= end) return std::nullopt;
      ++i;  // closing quote
      out.push_back(std::move(v));
    } else {
      // Unquoted (uuids, numbers): no escapes, so take the run as it is.
      std::size_t stop = s.find(',', i);
      if (stop == std::string_view::npos || stop > end) stop = end;
      const std::string_view v = s.substr(i, stop - i);
      if (v != "NULL") out.emplace_back(v);
      i = stop;
    }
    if (i == end) break;
    if (s[i] != ',') return std::nullopt;
    ++i;
  }
  return out;
}

}  // namespace tchat::pg
