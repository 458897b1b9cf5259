#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "driver.hpp"

struct pg_conn;

namespace tchat::migrate {

// The parts of a golang-migrate database URL that libpq must not see.
struct DatabaseUrl {
  std::string conninfo;  // what libpq gets: the URL without its "x-" parameters
  std::string path;      // URL path as golang-migrate keeps it ("/tchat_auth"); may be empty
  std::string migrations_table = "schema_migrations";  // from x-migrations-table
};

// Splits a "postgres://" / "postgresql://" URL (or a key=value conninfo string,
// passed through untouched). Fails on an x-migrations-table that is not a plain
// identifier; other "x-" parameters are dropped.
Result<DatabaseUrl> ParseDatabaseUrl(std::string_view url);

// Driver over one synchronous libpq connection, with golang-migrate's postgres
// table `schema_migrations(version bigint not null primary key, dirty boolean not
// null)` holding at most one row, in the connection's current schema. The lock is a
// session-level advisory lock with golang-migrate's key. Owns the connection;
// single-threaded (it is a CLI).
class PostgresDriver final : public Driver {
 public:
  // Connects and creates the version table when missing (under the lock).
  static Result<std::unique_ptr<PostgresDriver>> Open(std::string_view url,
                                                      std::chrono::milliseconds lock_timeout);
  ~PostgresDriver() override;
  PostgresDriver(const PostgresDriver&) = delete;
  PostgresDriver& operator=(const PostgresDriver&) = delete;

  Status Lock() override;
  Status Unlock() override;
  Result<VersionState> Version() override;
  Status SetVersion(std::int64_t version, bool dirty) override;
  Status Run(std::string_view sql) override;

 private:
  PostgresDriver(pg_conn* conn, std::chrono::milliseconds lock_timeout);
  Status EnsureVersionTable();
  // Runs a command without parameters and checks for success.
  Status Exec(const std::string& sql);
  std::string QualifiedTable() const;

  pg_conn* conn_;
  std::chrono::milliseconds lock_timeout_;
  std::string schema_;
  std::string table_;
  std::uint32_t lock_id_ = 0;
  bool locked_ = false;
};

}  // namespace tchat::migrate
