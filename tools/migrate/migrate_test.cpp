#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "cli.hpp"
#include "lock_id.hpp"
#include "migration_files.hpp"
#include "migrator.hpp"
#include "postgres_driver.hpp"

namespace tchat::migrate {
namespace {

namespace fs = std::filesystem;

TEST(ParseFileName, AcceptsGolangMigrateNames) {
  std::optional<FileName> f = ParseFileName("000001_init.up.sql");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->version, 1);
  EXPECT_EQ(f->identifier, "init");
  EXPECT_EQ(f->direction, Direction::kUp);
  EXPECT_EQ(f->extension, "sql");

  f = ParseFileName("20240101120000_add_users_table.down.sql");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->version, 20240101120000);
  EXPECT_EQ(f->identifier, "add_users_table");
  EXPECT_EQ(f->direction, Direction::kDown);
}

TEST(ParseFileName, IdentifierIsGreedyLikeTheRegex) {
  // ^([0-9]+)_(.*)\.(down|up)\.(.*)$ : the identifier runs to the last marker.
  std::optional<FileName> f = ParseFileName("2_a.up.b.down.sql");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->identifier, "a.up.b");
  EXPECT_EQ(f->direction, Direction::kDown);
  EXPECT_EQ(f->extension, "sql");

  f = ParseFileName("3_.up.sql");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->identifier, "");
  f = ParseFileName("4_x.up.");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->extension, "");
}

TEST(ParseFileName, RejectsNonMigrations) {
  for (const char* name : {"README.md", "init.up.sql", "_init.up.sql", "1init.up.sql", "1_init.sql",
                           "1_init.upsql", "1_init.UP.sql", "a1_init.up.sql", "", "1_",
                           "99999999999999999999_x.up.sql", "-1_x.up.sql"}) {
    EXPECT_FALSE(ParseFileName(name).has_value()) << name;
  }
}

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("tchat_migrate_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

TEST(Source, LoadsOrdersAndSkipsOtherFiles) {
  TempDir dir;
  dir.Write("000010_third.up.sql", "c");
  dir.Write("000002_second.up.sql", "b");
  dir.Write("000002_second.down.sql", "b-");
  dir.Write("000001_first.up.sql", "a");
  dir.Write("README.md", "not a migration");
  fs::create_directory(dir.path() / "000005_dir.up.sql");  // a directory, ignored

  Result<Source> source = Source::Load(dir.path());
  ASSERT_TRUE(source.ok()) << source.error().message;
  EXPECT_EQ(source->Size(), 3u);
  EXPECT_EQ(source->First(), 1);
  EXPECT_EQ(source->Next(1), 2);
  EXPECT_EQ(source->Next(2), 10);
  EXPECT_EQ(source->Next(10), std::nullopt);
  EXPECT_EQ(source->Next(5), 10);  // not present: the next higher one
  EXPECT_EQ(source->Prev(10), 2);
  EXPECT_EQ(source->Prev(1), std::nullopt);
  ASSERT_NE(source->Find(2), nullptr);
  EXPECT_TRUE(source->Find(2)->up.has_value());
  EXPECT_TRUE(source->Find(2)->down.has_value());
  EXPECT_FALSE(source->Find(1)->down.has_value());
  EXPECT_EQ(source->Find(3), nullptr);
  Result<std::string> body = ReadFile(*source->Find(2)->down);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, "b-");
}

TEST(Source, RejectsDuplicateVersionsAndMissingDirectory) {
  TempDir dir;
  dir.Write("1_a.up.sql", "a");
  dir.Write("001_b.up.sql", "b");
  Result<Source> source = Source::Load(dir.path());
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.error().message.find("duplicate"), std::string::npos);

  EXPECT_FALSE(Source::Load(dir.path() / "missing").ok());
}

TEST(LockId, MatchesCrc32AndGolangMigrateKey) {
  EXPECT_EQ(Crc32Ieee("123456789"), 0xCBF43926u);  // the standard check value
  EXPECT_EQ(Crc32Ieee(""), 0u);
  // Computed independently: zlib.crc32(b"public\0schema_migrations\0/tchat_auth")
  // * 1486364155 mod 2**32.
  EXPECT_EQ(AdvisoryLockId("/tchat_auth", "public", "schema_migrations"), 3711554649u);
  EXPECT_NE(AdvisoryLockId("/tchat_payment", "public", "schema_migrations"),
            AdvisoryLockId("/tchat_auth", "public", "schema_migrations"));
}

TEST(ParseDatabaseUrl, StripsGolangMigrateParameters) {
  Result<DatabaseUrl> u = ParseDatabaseUrl(
      "postgres://u:p%40ss@db:5432/tchat_auth?sslmode=disable&x-migrations-table=mig&"
      "x-multi-statement=true&connect_timeout=5#frag");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->conninfo,
            "postgres://u:p%40ss@db:5432/tchat_auth?sslmode=disable&connect_timeout=5");
  EXPECT_EQ(u->path, "/tchat_auth");
  EXPECT_EQ(u->migrations_table, "mig");

  u = ParseDatabaseUrl("postgresql://127.0.0.1/my%20db");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->conninfo, "postgresql://127.0.0.1/my%20db");
  EXPECT_EQ(u->path, "/my db");
  EXPECT_EQ(u->migrations_table, "schema_migrations");

  u = ParseDatabaseUrl("postgres://127.0.0.1:5432?x-no-lock=true");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->conninfo, "postgres://127.0.0.1:5432");
  EXPECT_EQ(u->path, "");

  u = ParseDatabaseUrl("host=127.0.0.1 dbname=x");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->conninfo, "host=127.0.0.1 dbname=x");

  EXPECT_FALSE(ParseDatabaseUrl("postgres://h/db?x-migrations-table=a;drop").ok());
  EXPECT_FALSE(ParseDatabaseUrl("postgres://h/db?x-migrations-table=").ok());
}

// An in-memory database: records every call, can fail a chosen SQL text.
class FakeDriver final : public Driver {
 public:
  Status Lock() override {
    if (fail_lock) return Error::DeadlineExceeded("timeout: can't acquire database lock");
    if (locked) return Error::Conflict("double lock");
    locked = true;
    ++locks;
    return Ok();
  }
  Status Unlock() override {
    if (!locked) return Error::Conflict("unlock without lock");
    locked = false;
    return Ok();
  }
  Result<VersionState> Version() override {
    if (!locked) return Error::Internal("version read without the lock");
    return state;
  }
  Status SetVersion(std::int64_t version, bool dirty) override {
    if (!locked) return Error::Internal("version written without the lock");
    state = {version, dirty};
    history.push_back(std::to_string(version) + (dirty ? "d" : "c"));
    return Ok();
  }
  Status Run(std::string_view sql) override {
    if (!locked) return Error::Internal("migration run without the lock");
    if (sql == fail_sql) return Error::Internal("syntax error");
    ran.emplace_back(sql);
    return Ok();
  }

  VersionState state;
  bool locked = false;
  bool fail_lock = false;
  int locks = 0;
  std::string fail_sql = "FAIL";
  std::vector<std::string> ran;
  std::vector<std::string> history;
};

class MigratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("1_one.up.sql", "up1");
    dir_.Write("1_one.down.sql", "down1");
    dir_.Write("2_two.up.sql", "up2");
    dir_.Write("2_two.down.sql", "down2");
    dir_.Write("5_five.up.sql", "up5");  // no down file
    Result<Source> s = Source::Load(dir_.path());
    ASSERT_TRUE(s.ok());
    source_ = std::move(*s);
  }
  Migrator Make() {
    return Migrator(source_, driver_, [this](std::string_view l) { log_.emplace_back(l); });
  }

  TempDir dir_;
  Source source_;
  FakeDriver driver_;
  std::vector<std::string> log_;
};

TEST_F(MigratorTest, UpAppliesEverythingInOrderMarkingDirtyThenClean) {
  Migrator m = Make();
  Result<int> applied = m.Up(std::nullopt);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(*applied, 3);
  EXPECT_EQ(driver_.ran, (std::vector<std::string>{"up1", "up2", "up5"}));
  EXPECT_EQ(driver_.history, (std::vector<std::string>{"1d", "1c", "2d", "2c", "5d", "5c"}));
  EXPECT_EQ(driver_.state.version, 5);
  EXPECT_FALSE(driver_.state.dirty);
  EXPECT_FALSE(driver_.locked);
  ASSERT_EQ(log_.size(), 3u);
  EXPECT_TRUE(log_[0].starts_with("1/u one (")) << log_[0];

  applied = m.Up(std::nullopt);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 0);  // no change
}

TEST_F(MigratorTest, UpWithLimitAndShortLimit) {
  Migrator m = Make();
  Result<int> applied = m.Up(2);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 2);
  EXPECT_EQ(driver_.state.version, 2);

  applied = m.Up(3);  // only one left: applies it, then reports the shortfall
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().message, "limit 3 short by 2");
  EXPECT_EQ(driver_.state.version, 5);
  EXPECT_FALSE(driver_.locked);
}

TEST_F(MigratorTest, DownRevertsAndMissingDownFileOnlyMovesVersion) {
  driver_.state = {5, false};
  Migrator m = Make();
  Result<int> applied = m.Down(1);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(driver_.state.version, 2);
  EXPECT_TRUE(driver_.ran.empty());  // 5 has no down file
  EXPECT_EQ(driver_.history, (std::vector<std::string>{"2c"}));

  applied = m.Down(std::nullopt);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 2);
  EXPECT_EQ(driver_.ran, (std::vector<std::string>{"down2", "down1"}));
  // Reverting 2 marks the target 1 dirty; reverting 1 marks "no version" dirty.
  EXPECT_EQ(driver_.history, (std::vector<std::string>{"2c", "1d", "1c", "-1d", "-1c"}));
  EXPECT_EQ(driver_.state.version, kNilVersion);
  EXPECT_TRUE(log_.back().starts_with("1/d one")) << log_.back();
}

TEST_F(MigratorTest, GotoMovesBothWaysAndRejectsUnknownVersions) {
  Migrator m = Make();
  Result<int> applied = m.Goto(2);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 2);
  EXPECT_EQ(driver_.state.version, 2);
  applied = m.Goto(1);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 1);
  EXPECT_EQ(driver_.state.version, 1);
  applied = m.Goto(1);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 0);
  EXPECT_FALSE(m.Goto(3).ok());
  EXPECT_EQ(driver_.state.version, 1);
}

TEST_F(MigratorTest, FailedMigrationLeavesDirtyAndBlocksUntilForced) {
  driver_.fail_sql = "up2";
  Migrator m = Make();
  Result<int> applied = m.Up(std::nullopt);
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.error().message.find("2_two.up.sql"), std::string::npos)
      << applied.error().message;
  EXPECT_EQ(driver_.state.version, 2);
  EXPECT_TRUE(driver_.state.dirty);
  EXPECT_FALSE(driver_.locked);

  driver_.fail_sql.clear();
  applied = m.Up(std::nullopt);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().message, "Dirty database version 2. Fix and force version.");
  EXPECT_FALSE(m.Down(1).ok());
  EXPECT_FALSE(m.Goto(1).ok());

  ASSERT_TRUE(m.Force(1).ok());
  EXPECT_EQ(driver_.state.version, 1);
  EXPECT_FALSE(driver_.state.dirty);
  applied = m.Up(std::nullopt);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(driver_.state.version, 5);
}

TEST_F(MigratorTest, ForceValidatesAndNilVersionClears) {
  Migrator m = Make();
  EXPECT_FALSE(m.Force(-2).ok());
  driver_.state = {2, true};
  ASSERT_TRUE(m.Force(kNilVersion).ok());
  EXPECT_EQ(driver_.state.version, kNilVersion);
  EXPECT_FALSE(driver_.state.dirty);
}

TEST_F(MigratorTest, UnknownCurrentVersionAndLockFailure) {
  driver_.state = {3, false};
  Migrator m = Make();
  Result<int> applied = m.Up(std::nullopt);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().message, "no migration found for version 3");

  driver_.fail_lock = true;
  applied = m.Up(std::nullopt);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().message, "timeout: can't acquire database lock");
}

std::vector<std::string> Args(std::initializer_list<const char*> list) {
  return std::vector<std::string>(list.begin(), list.end());
}

TEST(ParseOptions, GoStyleFlags) {
  Result<Options> o = ParseOptions(Args(
      {"-path", "dir", "--database=postgres://x/db", "-lock-timeout", "3", "-verbose", "up", "2"}));
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->path, "dir");
  EXPECT_EQ(o->database, "postgres://x/db");
  EXPECT_EQ(o->lock_timeout, std::chrono::seconds(3));
  EXPECT_TRUE(o->verbose);
  EXPECT_EQ(o->command, Args({"up", "2"}));

  o = ParseOptions(Args({"-source=file://migrations/x", "-verbose=false", "down", "-all"}));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->path, "migrations/x");
  EXPECT_FALSE(o->verbose);
  EXPECT_EQ(o->command, Args({"down", "-all"}));

  o = ParseOptions(Args({"--", "-x"}));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->command, Args({"-x"}));
}

TEST(ParseOptions, RejectsBadFlags) {
  EXPECT_FALSE(ParseOptions(Args({"-nope", "up"})).ok());
  EXPECT_FALSE(ParseOptions(Args({"-path"})).ok());
  EXPECT_FALSE(ParseOptions(Args({"-lock-timeout", "soon", "up"})).ok());
  EXPECT_FALSE(ParseOptions(Args({"-source", "s3://bucket", "up"})).ok());
  EXPECT_FALSE(ParseOptions(Args({"-verbose=maybe", "up"})).ok());
}

// Runs the CLI with a fake database; the driver is shared so tests can inspect it.
struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

CliRun RunWith(FakeDriver& driver, std::vector<std::string> args, std::string input = "") {
  std::ostringstream out;
  std::ostringstream err;
  std::istringstream in(input);
  DriverFactory factory = [&](const std::string&,
                              std::chrono::milliseconds) -> Result<std::unique_ptr<Driver>> {
    // A non-owning view of the test's driver.
    struct Borrowed final : Driver {
      explicit Borrowed(Driver& d) : d_(d) {}
      Status Lock() override { return d_.Lock(); }
      Status Unlock() override { return d_.Unlock(); }
      Result<VersionState> Version() override { return d_.Version(); }
      Status SetVersion(std::int64_t v, bool dirty) override { return d_.SetVersion(v, dirty); }
      Status Run(std::string_view sql) override { return d_.Run(sql); }
      Driver& d_;
    };
    return std::unique_ptr<Driver>(new Borrowed(driver));
  };
  CliRun run;
  run.code = RunCli(args, out, err, in, factory);
  run.out = out.str();
  run.err = err.str();
  return run;
}

TEST(RunCli, UsageErrorsNeverTouchTheDatabase) {
  FakeDriver driver;
  EXPECT_EQ(RunWith(driver, Args({})).code, 2);
  EXPECT_EQ(RunWith(driver, Args({"-database", "x", "launch"})).code, 2);
  EXPECT_EQ(RunWith(driver, Args({"-database", "x", "-path", "d", "up", "0"})).code, 2);
  EXPECT_EQ(RunWith(driver, Args({"-database", "x", "-path", "d", "up", "two"})).code, 2);
  EXPECT_EQ(RunWith(driver, Args({"-database", "x", "force"})).code, 2);
  EXPECT_EQ(RunWith(driver, Args({"-database", "x", "force", "-2"})).code, 2);
  EXPECT_EQ(RunWith(driver, Args({"-path", "d", "up"})).code, 2);      // no -database
  EXPECT_EQ(RunWith(driver, Args({"-database", "x", "up"})).code, 2);  // no -path
  EXPECT_EQ(driver.locks, 0);
  CliRun help = RunWith(driver, Args({"-help"}));
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("Usage: tchat-migrate"), std::string::npos);
}

TEST(RunCli, VersionUpNoChangeAndDirtyMessages) {
  TempDir dir;
  dir.Write("1_one.up.sql", "up1");
  dir.Write("1_one.down.sql", "down1");
  const std::string path = dir.path().string();
  FakeDriver driver;

  CliRun r = RunWith(driver, Args({"-database", "x", "version"}));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: no migration\n");

  r = RunWith(driver, {"-path", path, "-database", "x", "up"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.starts_with("1/u one (")) << r.err;
  r = RunWith(driver, {"-path", path, "-database", "x", "up"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "no change\n");
  r = RunWith(driver, Args({"-database", "x", "version"}));
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "1\n");

  driver.state = {1, true};
  r = RunWith(driver, Args({"-database", "x", "version"}));
  EXPECT_EQ(r.out, "1 (dirty)\n");
  r = RunWith(driver, {"-path", path, "-database", "x", "down", "1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: Dirty database version 1. Fix and force version.\n");
  r = RunWith(driver, Args({"-database", "x", "force", "1"}));
  EXPECT_EQ(r.code, 0);
  EXPECT_FALSE(driver.state.dirty);

  // A bare "down" asks first; anything but yes leaves the database alone.
  r = RunWith(driver, {"-path", path, "-database", "x", "down"}, "n\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(driver.state.version, 1);
  r = RunWith(driver, {"-path", path, "-database", "x", "down"}, "y\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(driver.state.version, kNilVersion);
  EXPECT_FALSE(driver.locked);
}

}  // namespace
}  // namespace tchat::migrate
