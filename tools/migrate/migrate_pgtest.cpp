// Integration test against a live PostgreSQL: TCHAT_TEST_PG_URL must name a server
// where the user may create databases (scripts/test.sh sets it). Each test works
// in a throwaway database that it drops at the end.

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tchat/core/testing/pg_scratch.hpp>

#include "cli.hpp"
#include "lock_id.hpp"
#include "postgres_driver.hpp"

namespace tchat::migrate {
namespace {

namespace fs = std::filesystem;

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;
struct ResDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Res = std::unique_ptr<PGresult, ResDeleter>;

std::string AdminUrl() {
  const char* url = std::getenv("TCHAT_TEST_PG_URL");
  return url != nullptr ? url : "";
}

Conn Connect(const std::string& url) {
  Conn c(PQconnectdb(url.c_str()));
  return c;
}

// Runs `sql` and returns the first column of the first row ("" when none).
std::string Query(PGconn* c, const std::string& sql) {
  Res r(PQexec(c, sql.c_str()));
  const ExecStatusType s = PQresultStatus(r.get());
  EXPECT_TRUE(s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
      << sql << ": " << PQresultErrorMessage(r.get());
  if (s != PGRES_TUPLES_OK || PQntuples(r.get()) == 0) return "";
  return PQgetvalue(r.get(), 0, 0);
}

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

class MigratePgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_url_ = AdminUrl();
    ASSERT_FALSE(admin_url_.empty())
        << "TCHAT_TEST_PG_URL is not set (scripts/test.sh starts PostgreSQL and sets it)";
    admin_ = Connect(admin_url_);
    ASSERT_EQ(PQstatus(admin_.get()), CONNECTION_OK) << PQerrorMessage(admin_.get());
    std::random_device rd;
    db_ = "tchat_migrate_test_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 100000);
    Query(admin_.get(), "CREATE DATABASE " + db_);
    url_ = tchat::pgtest::WithDatabase(admin_url_, db_);
    db_conn_ = Connect(url_);
    ASSERT_EQ(PQstatus(db_conn_.get()), CONNECTION_OK) << PQerrorMessage(db_conn_.get());

    dir_ = fs::temp_directory_path() / db_;
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Write("000001_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    Write("000001_users.down.sql", "DROP TABLE users;\n");
    Write("000002_posts.up.sql",
          "CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint REFERENCES users(id));\n"
          "CREATE INDEX posts_user_idx ON posts (user_id);\n");
    Write("000002_posts.down.sql", "DROP TABLE posts;\n");
  }

  void TearDown() override {
    db_conn_.reset();
    if (admin_ && !db_.empty())
      Query(admin_.get(), "DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }

  // Runs the CLI in-process.
  CliResult Cli(std::vector<std::string> args) {
    std::vector<std::string> full = {"-path", dir_.string(),   "-database",
                                     url_,    "-lock-timeout", "2"};
    full.insert(full.end(), args.begin(), args.end());
    std::ostringstream out;
    std::ostringstream err;
    std::istringstream in;
    CliResult r;
    r.code = RunCli(full, out, err, in, PostgresDriverFactory());
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  bool TableExists(const std::string& table) {
    return Query(db_conn_.get(), "SELECT to_regclass('public." + table + "') IS NOT NULL") == "t";
  }
  std::string Rows() {
    return Query(db_conn_.get(),
                 "SELECT string_agg(version || ':' || dirty, ',') FROM schema_migrations");
  }

  std::string admin_url_;
  std::string url_;
  std::string db_;
  Conn admin_;
  Conn db_conn_;
  fs::path dir_;
};

TEST_F(MigratePgTest, UpDownVersionKeepOneRow) {
  CliResult r = Cli({"version"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: no migration\n");
  // The version table exists from the first connection on, with golang-migrate's shape.
  EXPECT_EQ(Query(db_conn_.get(),
                  "SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable, ', ' "
                  "ORDER BY ordinal_position) FROM information_schema.columns "
                  "WHERE table_name = 'schema_migrations'"),
            "version bigint NO, dirty boolean NO");

  r = Cli({"up"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("1/u users"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2/u posts"), std::string::npos) << r.err;
  EXPECT_TRUE(TableExists("posts"));
  EXPECT_EQ(Rows(), "2:false");
  r = Cli({"version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "2\n");
  r = Cli({"up"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "no change\n");

  r = Cli({"down", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(TableExists("posts"));
  EXPECT_TRUE(TableExists("users"));
  EXPECT_EQ(Rows(), "1:false");

  r = Cli({"goto", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Rows(), "2:false");

  r = Cli({"down", "-all"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(TableExists("users"));
  EXPECT_EQ(Rows(), "");  // no row at all: nil version
}

TEST_F(MigratePgTest, FailedMigrationRollsBackItsFileAndLeavesDirty) {
  // The first statement would succeed; the second fails: the implicit transaction
  // must take the first one back.
  Write("000003_broken.up.sql", "CREATE TABLE half (id int);\nSELECT * FROM\n  no_such_table;\n");
  CliResult r = Cli({"up"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("000003_broken.up.sql"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no_such_table"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("42P01"), std::string::npos) << r.err;
  EXPECT_FALSE(TableExists("half"));
  EXPECT_EQ(Rows(), "3:true");

  r = Cli({"version"});
  EXPECT_EQ(r.out, "3 (dirty)\n");
  r = Cli({"up"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: Dirty database version 3. Fix and force version.\n");

  r = Cli({"force", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Rows(), "2:false");
  Write("000003_broken.up.sql", "CREATE TABLE half (id int);\n");
  r = Cli({"up"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(TableExists("half"));
  EXPECT_EQ(Rows(), "3:false");
}

TEST_F(MigratePgTest, WaitsForTheGolangMigrateAdvisoryLock) {
  ASSERT_EQ(Cli({"up", "1"}).code, 0);
  // Hold golang-migrate's key for this URL from another session.
  const std::string key = std::to_string(AdvisoryLockId("/" + db_, "public", "schema_migrations"));
  Conn other = Connect(url_);
  ASSERT_EQ(PQstatus(other.get()), CONNECTION_OK);
  EXPECT_EQ(Query(other.get(), "SELECT pg_try_advisory_lock(" + key + ")"), "t");

  CliResult r = Cli({"up"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("can't acquire database lock"), std::string::npos) << r.err;
  EXPECT_EQ(Rows(), "1:false");

  Query(other.get(), "SELECT pg_advisory_unlock(" + key + ")");
  r = Cli({"up"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Rows(), "2:false");
}

TEST_F(MigratePgTest, BadConnectionIsAnError) {
  std::ostringstream out;
  std::ostringstream err;
  std::istringstream in;
  const std::vector<std::string> args = {
      "-database", tchat::pgtest::WithDatabase(admin_url_, "no_such_db_x"), "version"};
  EXPECT_EQ(RunCli(args, out, err, in, PostgresDriverFactory()), 1);
  EXPECT_NE(err.str().find("no_such_db_x"), std::string::npos) << err.str();
}

// The real binary, end to end, as scripts/migrate.sh calls it.
TEST_F(MigratePgTest, BinaryRunsUpAndReportsVersion) {
  auto run = [&](const std::string& args) {
    const std::string cmd = std::string(TCHAT_MIGRATE_BIN) + " -path '" + dir_.string() +
                            "' -database '" + url_ + "' " + args + " 2>&1";
    CliResult r;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) return r;
    std::array<char, 256> buf{};
    while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) r.out += buf.data();
    const int status = ::pclose(pipe);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  };
  CliResult r = run("up");
  EXPECT_EQ(r.code, 0) << r.out;
  r = run("version");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "2\n");
  r = run("frobnicate");
  EXPECT_EQ(r.code, 2);
}

// The project's own migrations apply and revert cleanly on every database.
TEST_F(MigratePgTest, ProjectMigrationsApplyAndRevert) {
  for (const char* name :
       {"tchat_auth", "tchat_messaging", "tchat_payment", "tchat_notification"}) {
    SCOPED_TRACE(name);
    const fs::path path = fs::path(TCHAT_SOURCE_DIR) / "migrations" / "postgres" / name;
    ASSERT_TRUE(fs::is_directory(path));
    auto cli = [&](std::vector<std::string> args) {
      std::vector<std::string> full = {"-path", path.string(), "-database", url_};
      full.insert(full.end(), args.begin(), args.end());
      std::ostringstream out;
      std::ostringstream err;
      std::istringstream in;
      CliResult r;
      r.code = RunCli(full, out, err, in, PostgresDriverFactory());
      r.err = err.str();
      return r;
    };
    CliResult r = cli({"up"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(Rows().find(":false") != std::string::npos, true) << Rows();
    r = cli({"down", "-all"});
    ASSERT_EQ(r.code, 0) << r.err;
    // Nothing but the version table is left behind.
    EXPECT_EQ(Query(db_conn_.get(),
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'schema_migrations'"),
              "0");
    r = cli({"up"});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(cli({"down", "-all"}).code, 0);
  }
}

}  // namespace
}  // namespace tchat::migrate
