#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <tchat/core/error.hpp>

struct pg_result;  // libpq's PGresult, kept out of this header

namespace tchat::pg {

// The rows of one successful statement (text format), owning the libpq result.
// Move-only; any thread may read it once it has been handed over.
//
// Getters take a row and a column (index or exact column name). Reading a column
// that does not exist is a programming error (asserts; empty/0 in release). Typed
// getters return 0 / false / "" for NULL; check IsNull first where a column is
// nullable.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r) : r_(r) {}
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult();

  int Rows() const;
  int Columns() const;
  bool empty() const { return Rows() == 0; }
  // Rows touched by INSERT/UPDATE/DELETE/SELECT (from the command tag); 0 if none.
  std::int64_t AffectedRows() const;
  // "INSERT 0 1", "COMMIT", ...
  std::string_view CommandTag() const;
  std::string_view ColumnName(int col) const;
  // -1 when there is no such column. Exact (case-sensitive) match.
  int ColumnIndex(std::string_view name) const;

  bool IsNull(int row, int col) const;
  std::string_view GetString(int row, int col) const;
  std::int64_t GetInt64(int row, int col) const;
  std::int32_t GetInt32(int row, int col) const {
    return static_cast<std::int32_t>(GetInt64(row, col));
  }
  double GetDouble(int row, int col) const;
  bool GetBool(int row, int col) const;

  bool IsNull(int row, std::string_view col) const { return IsNull(row, Col(col)); }
  std::string_view GetString(int row, std::string_view col) const {
    return GetString(row, Col(col));
  }
  std::int64_t GetInt64(int row, std::string_view col) const { return GetInt64(row, Col(col)); }
  std::int32_t GetInt32(int row, std::string_view col) const { return GetInt32(row, Col(col)); }
  double GetDouble(int row, std::string_view col) const { return GetDouble(row, Col(col)); }
  bool GetBool(int row, std::string_view col) const { return GetBool(row, Col(col)); }

  pg_result* get() const { return r_; }

 private:
  int Col(std::string_view name) const;
  const char* Raw(int row, int col) const;  // nullptr for NULL or out of range

  pg_result* r_ = nullptr;
};

// Maps a SQLSTATE to an Error (the SQLSTATE is kept in Error::sqlstate):
//   23505 unique_violation, 23P01 exclusion_violation        → kConflict
//   other 23xxx (foreign key, not null, check), 22xxx data   → kInvalidArgument
//     (the request referred to or carried something the schema refuses)
//   40001 serialization_failure, 40P01 deadlock_detected     → kUnavailable (what is
//     left after Transaction() has used up its retries; the client may retry)
//   57014 query_canceled (statement_timeout)                 → kDeadlineExceeded
//   08xxx connection, 53xxx resources, 57P0x shutdown        → kUnavailable
//   anything else                                            → kInternal
Error DbError(std::string sqlstate, std::string message);

}  // namespace tchat::pg
