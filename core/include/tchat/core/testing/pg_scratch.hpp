#pragma once

// Helpers of the tests that need a live PostgreSQL (the *_pgtest binaries): the
// server's superuser URI from TCHAT_TEST_PG_URL, a scratch database per test
// process migrated from migrations/postgres/<database>/, and assertions for
// coroutine test bodies. For tests only: it includes GoogleTest.
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <tchat/core/pg/pool.hpp>
#include <tchat/core/task.hpp>

// In a coroutine test body: fails the test and returns when `expr` (a Result or
// Status) holds an error, or when `cond` is false.
#define CO_ASSERT_OK(expr)                                     \
  do {                                                         \
    auto&& co_r_ = (expr);                                     \
    if (!co_r_.ok()) {                                         \
      ADD_FAILURE() << #expr << ": " << co_r_.error().message; \
      co_return;                                               \
    }                                                          \
  } while (0)
#define CO_ASSERT_TRUE(cond)             \
  do {                                   \
    if (!(cond)) {                       \
      ADD_FAILURE() << "failed: " #cond; \
      co_return;                         \
    }                                    \
  } while (0)

namespace tchat::pgtest {

// The environment variable `name`, or "" when it is unset.
inline std::string GetEnv(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// `url` (a libpq URI) with its database replaced by `db`; the query is kept.
inline std::string WithDatabase(const std::string& url, const std::string& db) {
  auto q = url.find('?');
  std::string base = url.substr(0, q);
  std::string query = q == std::string::npos ? "" : url.substr(q);
  auto scheme = base.find("://");
  auto slash = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash != std::string::npos) base.resize(slash);
  return base + "/" + db + query;
}

inline void QuietNotices(void*, const char*) {}

// Runs `sql` (one or more statements) on a connection of its own; a failure
// fails the test.
inline void AdminExec(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  PQsetNoticeProcessor(c, QuietNotices, nullptr);
  PGresult* r = PQexec(c, sql.c_str());
  const auto st = PQresultStatus(r);
  EXPECT_TRUE(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) << PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
}

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `<prefix>_<pid>`: one scratch database per test process (ctest runs each test
// binary, of both builds, as a process of its own).
inline std::string ScratchName(const std::string& prefix) {
  return prefix + "_" + std::to_string(::getpid());
}

// (Re)creates database `db` on the server of `admin_url` and applies every
// *.up.sql of `migrations` in name order; expects at least `min_migrations`.
// Returns the database's URI. Failures fail the test.
inline std::string CreateMigratedDatabase(const std::string& admin_url, const std::string& db,
                                          const std::filesystem::path& migrations,
                                          std::size_t min_migrations) {
  AdminExec(admin_url, "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
  AdminExec(admin_url, "CREATE DATABASE " + db);
  const std::string url = WithDatabase(admin_url, db);
  std::vector<std::filesystem::path> ups;
  for (const auto& e : std::filesystem::directory_iterator(migrations)) {
    if (e.path().string().ends_with(".up.sql")) ups.push_back(e.path());
  }
  std::sort(ups.begin(), ups.end());
  EXPECT_GE(ups.size(), min_migrations) << migrations;
  for (const auto& p : ups) AdminExec(url, ReadFile(p));
  return url;
}

inline void DropDatabase(const std::string& admin_url, const std::string& db) {
  AdminExec(admin_url, "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
}

// The scratch database of a test fixture: Create() in SetUp (fails the test when
// TCHAT_TEST_PG_URL is unset), Drop() in TearDown.
struct ScratchDatabase {
  std::string admin_url;
  std::string name;
  std::string url;

  // `<prefix>_<pid>`, migrated from migrations/postgres/<database> of `source_dir`.
  void Create(const std::string& prefix, const std::string& source_dir, const std::string& database,
              std::size_t min_migrations) {
    admin_url = GetEnv("TCHAT_TEST_PG_URL");
    ASSERT_FALSE(admin_url.empty()) << "TCHAT_TEST_PG_URL is not set";
    name = ScratchName(prefix);
    url = CreateMigratedDatabase(
        admin_url, name, std::filesystem::path(source_dir) / "migrations/postgres" / database,
        min_migrations);
  }
  void Drop() {
    if (!name.empty() && !admin_url.empty()) DropDatabase(admin_url, name);
  }
  // Options of a small pool on the scratch database.
  pg::PoolOptions Pool(std::string service, int max_open = 2) const {
    pg::PoolOptions o;
    o.conninfo = url;
    o.max_open = max_open;
    o.service = std::move(service);
    o.database = name;
    return o;
  }
};

// Runs `body` with a pool of `options` on a fresh io_context until it finishes;
// the test fails if it does not.
inline void RunWithPool(const pg::PoolOptions& options,
                        const std::function<Task<void>(pg::Pool&)>& body) {
  boost::asio::io_context io;
  bool done = false;
  boost::asio::co_spawn(
      io,
      [&]() -> Task<void> {
        pg::Pool pool(io.get_executor(), options);
        co_await body(pool);
        done = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  EXPECT_TRUE(done);
}

}  // namespace tchat::pgtest
