#include <cmath>

#include <tchat/core/pg/params.hpp>

namespace tchat::pg {

void Params::AddText(const char* data, std::size_t n) {
  offsets_.push_back(static_cast<std::int32_t>(buf_.size()));
  buf_.append(data, n);
  buf_.push_back('\0');
}

void Params::Add(double v) {
  if (std::isnan(v)) return AddText("NaN", 3);
  if (std::isinf(v)) return v > 0 ? AddText("Infinity", 8) : AddText("-Infinity", 9);
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that round-trips
  AddText(buf, static_cast<std::size_t>(r.ptr - buf));
}

void Params::Fill(const char** out) const {
  for (std::int32_t off : offsets_) *out++ = off < 0 ? nullptr : buf_.data() + off;
}

}  // namespace tchat::pg
