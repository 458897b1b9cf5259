#include "postgres_driver.hpp"

#include <cstdlib>
#include <thread>
#include <utility>
#include <vector>

#include <libpq-fe.h>

#include "lock_id.hpp"

namespace tchat::migrate {
namespace {

constexpr std::string_view kLockTimeoutMessage = "timeout: can't acquire database lock";

// Owns one PGresult.
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

std::string TrimRight(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string Field(const PGresult* r, int code) {
  const char* v = PQresultErrorField(r, code);
  return v != nullptr ? v : "";
}

// Turns a failed result into an Error carrying the SQLSTATE. `sql` (optional) lets
// the message name the line and column of the failing statement.
Error ResultError(const PGresult* r, pg_conn* conn, std::string_view sql = {}) {
  Error e = Error::Internal("");
  if (r == nullptr) {
    e.message = TrimRight(PQerrorMessage(conn));
    return e;
  }
  e.sqlstate = Field(r, PG_DIAG_SQLSTATE);
  std::string primary = Field(r, PG_DIAG_MESSAGE_PRIMARY);
  e.message = primary.empty() ? TrimRight(PQresultErrorMessage(r)) : primary;
  const std::string position = Field(r, PG_DIAG_STATEMENT_POSITION);
  if (!position.empty() && !sql.empty()) {
    // The position counts characters (not bytes) from 1.
    const long target = std::strtol(position.c_str(), nullptr, 10);
    long chars = 0;
    int line = 1;
    int column = 0;
    for (const char ch : sql) {
      if ((static_cast<unsigned char>(ch) & 0xC0u) == 0x80u) continue;  // UTF-8 continuation
      if (++chars == target) break;
      if (ch == '\n') {
        ++line;
        column = 0;
      } else {
        ++column;
      }
    }
    if (chars == target) {
      e.message += " (line " + std::to_string(line) + " column " + std::to_string(column + 1) + ")";
    }
  }
  if (const std::string detail = Field(r, PG_DIAG_MESSAGE_DETAIL); !detail.empty()) {
    e.message += ", " + detail;
  }
  if (!e.sqlstate.empty()) e.message += " [SQLSTATE " + e.sqlstate + "]";
  return e;
}

bool IsOk(const PGresult* r) {
  if (r == nullptr) return false;
  const ExecStatusType s = PQresultStatus(r);
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

Result<DatabaseUrl> ParseDatabaseUrl(std::string_view url) {
  DatabaseUrl parsed;
  std::size_t scheme_size = 0;
  for (const std::string_view scheme : {"postgres://", "postgresql://"}) {
    if (url.starts_with(scheme)) scheme_size = scheme.size();
  }
  if (scheme_size == 0) {  // not a URL: a key=value conninfo string
    parsed.conninfo = std::string(url);
    return parsed;
  }
  url = url.substr(0, url.find('#'));
  const std::string_view rest = url.substr(scheme_size);
  const std::size_t q = url.find('?');
  const std::string_view base = url.substr(0, q);
  const std::string_view authority_and_path = rest.substr(0, rest.find('?'));
  if (const std::size_t slash = authority_and_path.find('/'); slash != std::string_view::npos) {
    parsed.path = PercentDecode(authority_and_path.substr(slash));
  }

  std::vector<std::string_view> kept;
  if (q != std::string_view::npos) {
    std::string_view query = url.substr(q + 1);
    while (!query.empty()) {
      const std::size_t amp = query.find('&');
      const std::string_view param = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
      if (param.empty()) continue;
      if (!param.starts_with("x-")) {
        kept.push_back(param);
        continue;
      }
      const std::size_t eq = param.find('=');
      const std::string_view key = param.substr(0, eq);
      if (key == "x-migrations-table") {
        std::string table =
            eq == std::string_view::npos ? std::string() : PercentDecode(param.substr(eq + 1));
        if (!IsIdentifier(table)) {
          return Error::InvalidArgument("x-migrations-table must be a plain identifier, got \"" +
                                        table + "\"");
        }
        parsed.migrations_table = std::move(table);
      }
    }
  }
  parsed.conninfo = std::string(base);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    parsed.conninfo += i == 0 ? '?' : '&';
    parsed.conninfo += kept[i];
  }
  return parsed;
}

PostgresDriver::PostgresDriver(pg_conn* conn, std::chrono::milliseconds lock_timeout)
    : conn_(conn), lock_timeout_(lock_timeout) {}

PostgresDriver::~PostgresDriver() {
  if (locked_) (void)Unlock();
  PQfinish(conn_);
}

Result<std::unique_ptr<PostgresDriver>> PostgresDriver::Open(
    std::string_view url, std::chrono::milliseconds lock_timeout) {
  Result<DatabaseUrl> parsed = ParseDatabaseUrl(url);
  if (!parsed) return std::move(parsed).error();

  // Keywords before "dbname" are defaults: the URL's own values override them.
  const char* const keys[] = {"fallback_application_name", "connect_timeout", "dbname", nullptr};
  const char* const values[] = {"tchat-migrate", "10", parsed->conninfo.c_str(), nullptr};
  pg_conn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Error::Unavailable("out of memory creating the connection");
  std::unique_ptr<PostgresDriver> driver(new PostgresDriver(conn, lock_timeout));
  if (PQstatus(conn) != CONNECTION_OK) {
    return Error::Unavailable(TrimRight(PQerrorMessage(conn)));
  }
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);

  PgResult r(PQexec(conn, "SELECT current_schema(), current_database()"));
  if (!IsOk(r.get())) return ResultError(r.get(), conn);
  if (PQgetisnull(r.get(), 0, 0)) {
    return Error::InvalidArgument("no schema: the search_path names no existing schema");
  }
  driver->schema_ = PQgetvalue(r.get(), 0, 0);
  driver->table_ = parsed->migrations_table;
  const std::string database = parsed->path.empty() ? PQgetvalue(r.get(), 0, 1) : parsed->path;
  driver->lock_id_ = AdvisoryLockId(database, driver->schema_, driver->table_);

  if (Status s = driver->EnsureVersionTable(); !s) return std::move(s).error();
  return driver;
}

std::string PostgresDriver::QualifiedTable() const {
  auto quote = [this](const std::string& ident) {
    char* q = PQescapeIdentifier(conn_, ident.c_str(), ident.size());
    std::string out = q != nullptr ? q : "\"" + ident + "\"";
    PQfreemem(q);
    return out;
  };
  return quote(schema_) + "." + quote(table_);
}

Status PostgresDriver::Exec(const std::string& sql) {
  PgResult r(PQexec(conn_, sql.c_str()));
  if (!IsOk(r.get())) return ResultError(r.get(), conn_);
  return Ok();
}

Status PostgresDriver::EnsureVersionTable() {
  if (Status s = Lock(); !s) return s;
  Status result = [this]() -> Status {
    const char* params[] = {schema_.c_str(), table_.c_str()};
    PgResult r(PQexecParams(conn_,
                            "SELECT COUNT(1) FROM information_schema.tables "
                            "WHERE table_schema = $1 AND table_name = $2",
                            2, nullptr, params, nullptr, nullptr, 0));
    if (!IsOk(r.get())) return ResultError(r.get(), conn_);
    if (std::string_view(PQgetvalue(r.get(), 0, 0)) != "0") return Ok();
    return Exec("CREATE TABLE IF NOT EXISTS " + QualifiedTable() +
                " (version bigint not null primary key, dirty boolean not null)");
  }();
  Status unlocked = Unlock();
  if (!result) return result;
  return unlocked;
}

Status PostgresDriver::Lock() {
  if (locked_) return Error::Conflict("already locked");
  const std::string id = std::to_string(lock_id_);
  const char* params[] = {id.c_str()};
  const auto deadline = std::chrono::steady_clock::now() + lock_timeout_;
  while (true) {
    PgResult r(PQexecParams(conn_, "SELECT pg_try_advisory_lock($1::bigint)", 1, nullptr, params,
                            nullptr, nullptr, 0));
    if (!IsOk(r.get())) return ResultError(r.get(), conn_);
    if (std::string_view(PQgetvalue(r.get(), 0, 0)) == "t") {
      locked_ = true;
      return Ok();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error::DeadlineExceeded(std::string(kLockTimeoutMessage));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Status PostgresDriver::Unlock() {
  if (!locked_) return Error::Conflict("not locked");
  locked_ = false;
  const std::string id = std::to_string(lock_id_);
  const char* params[] = {id.c_str()};
  PgResult r(PQexecParams(conn_, "SELECT pg_advisory_unlock($1::bigint)", 1, nullptr, params,
                          nullptr, nullptr, 0));
  if (!IsOk(r.get())) return ResultError(r.get(), conn_);
  return Ok();
}

Result<VersionState> PostgresDriver::Version() {
  PgResult r(
      PQexec(conn_, ("SELECT version, dirty FROM " + QualifiedTable() + " LIMIT 1").c_str()));
  if (!IsOk(r.get())) {
    if (r != nullptr && Field(r.get(), PG_DIAG_SQLSTATE) == "42P01") return VersionState{};
    return ResultError(r.get(), conn_);
  }
  if (PQntuples(r.get()) == 0) return VersionState{};
  VersionState state;
  state.version = std::strtoll(PQgetvalue(r.get(), 0, 0), nullptr, 10);
  state.dirty = std::string_view(PQgetvalue(r.get(), 0, 1)) == "t";
  return state;
}

Status PostgresDriver::SetVersion(std::int64_t version, bool dirty) {
  if (Status s = Exec("BEGIN"); !s) return s;
  Status result = [&]() -> Status {
    if (Status s = Exec("TRUNCATE " + QualifiedTable()); !s) return s;
    // A dirty nil version is recorded too, so that a failed first down migration
    // still shows up as dirty.
    if (version >= 0 || dirty) {
      const std::string v = std::to_string(version);
      const char* params[] = {v.c_str(), dirty ? "true" : "false"};
      PgResult r(PQexecParams(
          conn_,
          ("INSERT INTO " + QualifiedTable() + " (version, dirty) VALUES ($1::bigint, $2::boolean)")
              .c_str(),
          2, nullptr, params, nullptr, nullptr, 0));
      if (!IsOk(r.get())) return ResultError(r.get(), conn_);
    }
    return Exec("COMMIT");
  }();
  if (!result) (void)Exec("ROLLBACK");
  return result;
}

Status PostgresDriver::Run(std::string_view sql) {
  if (sql.find_first_not_of(" \t\r\n") == std::string_view::npos) return Ok();
  // One simple-protocol call: PostgreSQL runs a multi-statement string in a single
  // implicit transaction unless the file itself says BEGIN/COMMIT, so a failing
  // file leaves no half-applied changes behind.
  const std::string text(sql);
  PgResult r(PQexec(conn_, text.c_str()));
  if (!IsOk(r.get())) return ResultError(r.get(), conn_, sql);
  return Ok();
}

}  // namespace tchat::migrate
