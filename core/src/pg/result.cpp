#include <cassert>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include <libpq-fe.h>

#include <tchat/core/pg/result.hpp>

namespace tchat::pg {

PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

PgResult::~PgResult() {
  PQclear(r_);
}

int PgResult::Rows() const {
  return r_ ? PQntuples(r_) : 0;
}
int PgResult::Columns() const {
  return r_ ? PQnfields(r_) : 0;
}

std::int64_t PgResult::AffectedRows() const {
  if (!r_) return 0;
  const char* s = PQcmdTuples(r_);
  std::int64_t n = 0;
  std::from_chars(s, s + std::strlen(s), n);
  return n;
}

std::string_view PgResult::CommandTag() const {
  const char* s = r_ ? PQcmdStatus(r_) : nullptr;
  return s ? std::string_view(s) : std::string_view();
}

std::string_view PgResult::ColumnName(int col) const {
  const char* s = r_ ? PQfname(r_, col) : nullptr;
  return s ? std::string_view(s) : std::string_view();
}

int PgResult::ColumnIndex(std::string_view name) const {
  // PQfnumber would fold case and needs a NUL-terminated name.
  for (int i = 0, n = Columns(); i < n; ++i) {
    if (name == PQfname(r_, i)) return i;
  }
  return -1;
}

int PgResult::Col(std::string_view name) const {
  int i = ColumnIndex(name);
  assert(i >= 0 && "no such column");
  return i;
}

const char* PgResult::Raw(int row, int col) const {
  if (!r_ || row < 0 || col < 0 || row >= PQntuples(r_) || col >= PQnfields(r_)) {
    assert(false && "row or column out of range");
    return nullptr;
  }
  return PQgetisnull(r_, row, col) ? nullptr : PQgetvalue(r_, row, col);
}

bool PgResult::IsNull(int row, int col) const {
  return Raw(row, col) == nullptr;
}

std::string_view PgResult::GetString(int row, int col) const {
  const char* v = Raw(row, col);
  return v ? std::string_view(v, static_cast<std::size_t>(PQgetlength(r_, row, col)))
           : std::string_view();
}

std::int64_t PgResult::GetInt64(int row, int col) const {
  std::string_view s = GetString(row, col);
  std::int64_t n = 0;
  [[maybe_unused]] auto r = std::from_chars(s.data(), s.data() + s.size(), n);
  assert((s.empty() || r.ec == std::errc()) && "not an integer column");
  return n;
}

double PgResult::GetDouble(int row, int col) const {
  const char* v = Raw(row, col);
  return v ? std::strtod(v, nullptr) : 0.0;  // strtod knows NaN and Infinity
}

bool PgResult::GetBool(int row, int col) const {
  const char* v = Raw(row, col);
  return v && v[0] == 't';
}

Error DbError(std::string sqlstate, std::string message) {
  ErrorCode code = ErrorCode::kInternal;
  std::string_view s = sqlstate;
  std::string_view cls = s.substr(0, 2);
  if (s == "23505" || s == "23P01") {
    code = ErrorCode::kConflict;
  } else if (cls == "23" || cls == "22") {
    code = ErrorCode::kInvalidArgument;
  } else if (s == "40001" || s == "40P01") {
    code = ErrorCode::kUnavailable;
  } else if (s == "57014") {
    code = ErrorCode::kDeadlineExceeded;
  } else if (cls == "08" || cls == "53" || s.starts_with("57P")) {
    code = ErrorCode::kUnavailable;
  }
  Error e{code, std::move(message)};
  e.sqlstate = std::move(sqlstate);
  return e;
}

}  // namespace tchat::pg
