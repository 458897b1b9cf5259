#include "support/sql_probe.hpp"

#include <libpq-fe.h>

namespace tchat::e2e {

SqlProbe::SqlProbe(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
  if (PQstatus(conn_) != CONNECTION_OK) last_error_ = PQerrorMessage(conn_);
}

SqlProbe::~SqlProbe() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool SqlProbe::ok() const {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}
std::string SqlProbe::error() const {
  return last_error_;
}

std::vector<std::vector<std::optional<std::string>>> SqlProbe::Query(const std::string& sql) {
  std::vector<std::vector<std::optional<std::string>>> rows;
  PGresult* r = PQexec(conn_, sql.c_str());
  const auto st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    last_error_ = PQresultErrorMessage(r);
    PQclear(r);
    return rows;
  }
  for (int i = 0; i < PQntuples(r); ++i) {
    std::vector<std::optional<std::string>> row;
    for (int j = 0; j < PQnfields(r); ++j) {
      if (PQgetisnull(r, i, j)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(
            std::string(PQgetvalue(r, i, j), static_cast<std::size_t>(PQgetlength(r, i, j))));
      }
    }
    rows.push_back(std::move(row));
  }
  PQclear(r);
  return rows;
}

std::string SqlProbe::Scalar(const std::string& sql) {
  auto rows = Query(sql);
  if (rows.empty() || rows[0].empty() || !rows[0][0]) return {};
  return *rows[0][0];
}

}  // namespace tchat::e2e
