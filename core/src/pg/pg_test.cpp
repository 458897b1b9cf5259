// PostgreSQL client tests. The hermetic ones (params, error mapping) always run;
// the rest need a live server: TCHAT_TEST_PG_URL, a superuser libpq URI such as
// postgresql://postgres@127.0.0.1:55433/postgres. They fail when it is unset.
#include <cstdlib>
#include <exception>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <tchat/core/async.hpp>
#include <tchat/core/metrics.hpp>
#include <tchat/core/pg/pool.hpp>

namespace tchat::pg {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using namespace std::chrono_literals;
using Executor = asio::any_io_executor;

// gtest's ASSERT_* `return`, which a coroutine cannot.
#define CO_ASSERT(cond)                     \
  do {                                      \
    if (!(cond)) {                          \
      ADD_FAILURE() << "failed: " << #cond; \
      co_return;                            \
    }                                       \
  } while (0)
#define CO_ASSERT_OK(expr)                                                   \
  do {                                                                       \
    auto&& co_assert_r_ = (expr);                                            \
    if (!co_assert_r_.ok()) {                                                \
      ADD_FAILURE() << #expr << ": " << co_assert_r_.error().message << " [" \
                    << co_assert_r_.error().sqlstate << "]";                 \
      co_return;                                                             \
    }                                                                        \
  } while (0)

// Runs fn(executor) -> Task<void> on a fresh io_context until it finishes.
template <typename Fn>
void RunAsync(Fn&& fn) {
  asio::io_context ioc;
  bool finished = false;
  asio::co_spawn(
      ioc,
      [&]() -> Task<void> {
        co_await fn(ioc.get_executor());
        finished = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  ioc.run();
  EXPECT_TRUE(finished);
}

TEST(PgParams, EncodesTextAndNulls) {
  std::string owned = "owned";
  Params p = Params::Of(std::int64_t{-42}, 7, "lit", std::string_view("view"), owned, true, false,
                        1.5, std::optional<int>{}, std::optional<std::string>("opt"), nullptr);
  ASSERT_EQ(p.size(), 11);
  std::vector<const char*> v(11);
  p.Fill(v.data());
  const char* want[] = {"-42", "7",   "lit",   "view", "owned", "t",
                        "f",   "1.5", nullptr, "opt",  nullptr};
  for (int i = 0; i < 11; ++i) {
    if (!want[i]) {
      EXPECT_EQ(v[static_cast<std::size_t>(i)], nullptr) << i;
      EXPECT_TRUE(p.IsNull(i));
    } else {
      EXPECT_STREQ(v[static_cast<std::size_t>(i)], want[i]) << i;
    }
  }
}

TEST(PgError, MapsSqlstate) {
  EXPECT_EQ(DbError("23505", "dup").code, ErrorCode::kConflict);
  EXPECT_EQ(DbError("23503", "fk").code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(DbError("22P02", "bad").code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(DbError("40001", "ser").code, ErrorCode::kUnavailable);
  EXPECT_EQ(DbError("57014", "timeout").code, ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(DbError("57P01", "shutdown").code, ErrorCode::kUnavailable);
  EXPECT_EQ(DbError("42601", "syntax").code, ErrorCode::kInternal);
  EXPECT_EQ(DbError("40P01", "deadlock").sqlstate, "40P01");
}

// Live-server tests: each gets its own tables and its own metric labels.
class PgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("TCHAT_TEST_PG_URL");
    ASSERT_TRUE(url && *url) << "TCHAT_TEST_PG_URL is not set";
    url_ = url;
    name_ = std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    for (char& ch : name_) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    name_ += "_" + std::to_string(::getpid());
  }

  PoolOptions Options(int max_open = 4) const {
    PoolOptions o;
    o.conninfo = url_;
    o.max_open = max_open;
    o.max_idle = max_open;
    o.acquire_timeout = 2s;
    o.service = "pg_test";
    o.database = name_;
    return o;
  }
  // Table name unique to this test and process.
  std::string Table(std::string_view suffix = "t") const {
    return "pgt_" + name_ + "_" + std::string(suffix);
  }
  double ConnErrors() const {
    return metrics::Registry::Default()
        .AddCounter("db_connection_errors_total", "", {"service", "database"})
        .With({"pg_test", name_})
        .Value();
  }
  // CREATE TABLE name (...), dropped first in case a previous run crashed.
  static Task<void> Create(Pool& pool, const std::string& name, const std::string& columns) {
    std::string drop = "DROP TABLE IF EXISTS " + name;
    std::string create = "CREATE TABLE " + name + " (" + columns + ")";
    auto d = co_await pool.Execute(drop, {});
    EXPECT_TRUE(d.ok());
    auto c = co_await pool.Execute(create, {});
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  }

  std::string url_;
  std::string name_;
};

TEST_F(PgTest, TypedResultsAndNull) {
  RunAsync([&](Executor ex) -> Task<void> {
    Pool pool(ex, Options());
    auto r = co_await pool.Query(
        "SELECT 9000000000::int8 AS big, 'héllo'::text AS s, true AS yes, false AS no, "
        "NULL::text AS nothing, 2.5::float8 AS f, 7::int4 AS small");
    CO_ASSERT_OK(r);
    CO_ASSERT(r->Rows() == 1 && r->Columns() == 7);
    EXPECT_EQ(r->GetInt64(0, 0), 9000000000);
    EXPECT_EQ(r->GetString(0, "s"), "héllo");
    EXPECT_TRUE(r->GetBool(0, "yes"));
    EXPECT_FALSE(r->GetBool(0, "no"));
    EXPECT_TRUE(r->IsNull(0, "nothing"));
    EXPECT_FALSE(r->IsNull(0, "s"));
    EXPECT_EQ(r->GetString(0, "nothing"), "");
    EXPECT_DOUBLE_EQ(r->GetDouble(0, "f"), 2.5);
    EXPECT_EQ(r->GetInt32(0, "small"), 7);
    EXPECT_EQ(r->ColumnIndex("missing"), -1);
    EXPECT_EQ(r->ColumnName(1), "s");
  });
}

TEST_F(PgTest, Parameters) {
  RunAsync([&](Executor ex) -> Task<void> {
    Pool pool(ex, Options());
    const std::string t = Table();
    co_await Create(pool, t, "id int8 PRIMARY KEY, name text, ok bool, score float8, note text");
    const std::string ins = "INSERT INTO " + t + " VALUES ($1, $2, $3, $4, $5)";
    const std::string tricky = "O'Reilly\"; DROP TABLE x; --";
    auto a =
        co_await pool.Query(ins, std::int64_t{1}, tricky, true, 0.25, std::optional<std::string>());
    CO_ASSERT_OK(a);
    EXPECT_EQ(a->AffectedRows(), 1);
    auto b = co_await pool.Query(ins, 2, std::string_view("b"), false, -1.0, "note");
    CO_ASSERT_OK(b);
    const std::string sel = "SELECT name, ok, score, note FROM " + t + " WHERE id = $1";
    auto r = co_await pool.Query(sel, 1);
    CO_ASSERT_OK(r);
    CO_ASSERT(r->Rows() == 1);
    EXPECT_EQ(r->GetString(0, "name"), tricky);
    EXPECT_TRUE(r->GetBool(0, "ok"));
    EXPECT_DOUBLE_EQ(r->GetDouble(0, "score"), 0.25);
    EXPECT_TRUE(r->IsNull(0, "note"));
    auto none = co_await pool.Query(sel, std::int64_t{99});
    CO_ASSERT_OK(none);
    EXPECT_TRUE(none->empty());
  });
}

TEST_F(PgTest, PreparedStatementsAreReused) {
  RunAsync([&](Executor ex) -> Task<void> {
    Pool pool(ex, Options(1));
    auto lease = co_await pool.Acquire();
    CO_ASSERT_OK(lease);
    Connection& c = **lease;
    const std::string_view sql = "SELECT $1::int8 * 2 AS v";
    for (int i = 1; i <= 3; ++i) {
      auto r = co_await c.Query(sql, i);
      CO_ASSERT_OK(r);
      EXPECT_EQ(r->GetInt64(0, 0), 2 * i);
    }
    EXPECT_EQ(c.cached_statements(), 1u);
    auto ps =
        co_await c.Query("SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", sql);
    CO_ASSERT_OK(ps);
    EXPECT_EQ(ps->GetInt64(0, 0), 1);  // prepared once on the server, executed three times
    EXPECT_EQ(c.cached_statements(), 2u);
  });
}

TEST_F(PgTest, CachedStatementSurvivesSchemaChange) {
  RunAsync([&](Executor ex) -> Task<void> {
    Pool pool(ex, Options(1));
    const std::string t = Table();
    co_await Create(pool, t, "a int");
    const std::string sel = "SELECT * FROM " + t;
    auto before = co_await pool.Query(sel);
    CO_ASSERT_OK(before);
    EXPECT_EQ(before->Columns(), 1);
    CO_ASSERT_OK(co_await pool.Execute("ALTER TABLE " + t + " ADD COLUMN b int", {}));
    auto after = co_await pool.Query(sel);  // same connection, stale prepared plan
    CO_ASSERT_OK(after);
    EXPECT_EQ(after->Columns(), 2);
  });
}

TEST_F(PgTest, ErrorsKeepSqlstate) {
  RunAsync([&](Executor ex) -> Task<void> {
    Pool pool(ex, Options(1));
    const std::string t = Table();
    co_await Create(pool, t, "id int8 PRIMARY KEY");
    const std::string ins = "INSERT INTO " + t + " VALUES ($1)";
    CO_ASSERT_OK(co_await pool.Query(ins, 1));
    auto dup = co_await pool.Query(ins, 1);
    CO_ASSERT(!dup.ok());
    EXPECT_EQ(dup.error().sqlstate, "23505");
    EXPECT_TRUE(dup.error().IsUniqueViolation());
    EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
    auto bad = co_await pool.Query(ins, "not a number");
    CO_ASSERT(!bad.ok());
    EXPECT_EQ(bad.error().sqlstate, "22P02");
    EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
    auto syntax = co_await pool.Query("SELEC 1");
    CO_ASSERT(!syntax.ok());
    EXPECT_EQ(syntax.error().sqlstate, "42601");
    // Statement errors leave the connection healthy: still the only one, still usable.
    auto ok = co_await pool.Query("SELECT 1");
    CO_ASSERT_OK(ok);
    EXPECT_EQ(pool.Stats().open, 1);
    EXPECT_EQ(ConnErrors(), 0.0);
  });
}

TEST_F(PgTest, TransactionCommitAndRollback) {
  RunAsync([&](Executor ex) -> Task<void> {
    Pool pool(ex, Options(2));
    const std::string t = Table();
    co_await Create(pool, t, "id int8 PRIMARY KEY");
    const std::string ins = "INSERT INTO " + t + " VALUES ($1)";
    const std::string count = "SELECT count(*) FROM " + t;

    auto committed = co_await pool.Transaction(IsolationLevel::kReadCommitted,
                                               [&](Connection& c) -> Task<Result<int>> {
                                                 for (int id : {1, 2}) {
                                                   auto r = co_await c.Query(ins, id);
                                                   if (!r) co_return std::move(r).error();
                                                 }
                                                 co_return 2;
                                               });
    CO_ASSERT_OK(committed);
    EXPECT_EQ(*committed, 2);

    auto rolled = co_await pool.Transaction(IsolationLevel::kRepeatableRead,
                                            [&](Connection& c) -> Task<Result<int>> {
                                              auto r = co_await c.Query(ins, 3);
                                              if (!r) co_return std::move(r).error();
                                              co_return Error::Conflict("changed my mind");
                                            });
    CO_ASSERT(!rolled.ok());
    EXPECT_EQ(rolled.error().code, ErrorCode::kConflict);

    // A failed statement whose error fn swallowed: COMMIT turns into ROLLBACK.
    auto swallowed = co_await pool.Transaction(IsolationLevel::kReadCommitted,
                                               [&](Connection& c) -> Task<Result<int>> {
                                                 (void)co_await c.Query(ins, 4);
                                                 (void)co_await c.Query(ins, 1);  // duplicate
                                                 co_return 0;
                                               });
    CO_ASSERT(!swallowed.ok());
    EXPECT_EQ(swallowed.error().code, ErrorCode::kInternal);

    auto n = co_await pool.Query(count);
    CO_ASSERT_OK(n);
    EXPECT_EQ(n->GetInt64(0, 0), 2);
    EXPECT_EQ(pool.Stats().in_use, 0);
  });
}

TEST_F(PgTest, SerializationFailureRetries) {
  RunAsync([&](Executor ex) -> Task<void> {
    Pool pool(ex, Options(2));
    const std::string t = Table();
    co_await Create(pool, t, "id int PRIMARY KEY, v int8 NOT NULL");
    CO_ASSERT_OK(co_await pool.Execute("INSERT INTO " + t + " VALUES (1, 0)", {}));
    const std::string read = "SELECT v FROM " + t + " WHERE id = 1";
    const std::string write = "UPDATE " + t + " SET v = $1 WHERE id = 1";
    int attempts = 0;
    int reads = 0;
    // Read-modify-write of one row. Both first attempts read before either writes,
    // so the second writer must fail with 40001 and redo its read.
    auto increment = [&](Connection& c) -> Task<Result<std::int64_t>> {
      const bool first = attempts++ < 2;
      auto r = co_await c.Query(read);
      if (!r) co_return std::move(r).error();
      ++reads;
      for (int i = 0; first && reads < 2 && i < 5000; ++i) co_await Sleep(1ms);
      const std::int64_t v = r->GetInt64(0, 0) + 1;
      auto w = co_await c.Query(write, v);
      if (!w) co_return std::move(w).error();
      co_return v;
    };
    auto one = [&]() -> Task<Result<std::int64_t>> {
      co_return co_await pool.Transaction(IsolationLevel::kSerializable, increment);
    };
    auto [a, b] = co_await (one() && one());
    CO_ASSERT_OK(a);
    CO_ASSERT_OK(b);
    EXPECT_EQ(attempts, 3);  // exactly one retry
    EXPECT_EQ(std::min(*a, *b), 1);
    EXPECT_EQ(std::max(*a, *b), 2);
    auto v = co_await pool.Query(read);
    CO_ASSERT_OK(v);
    EXPECT_EQ(v->GetInt64(0, 0), 2);  // no lost update
  });
}

TEST_F(PgTest, PipelineBatch) {
  RunAsync([&](Executor ex) -> Task<void> {
    Pool pool(ex, Options(1));
    const std::string t = Table();
    co_await Create(pool, t, "id int8 PRIMARY KEY, body text");
    const std::string ins = "INSERT INTO " + t + " VALUES ($1, $2)";
    constexpr int kRows = 2000;
    std::vector<Statement> batch;
    for (int i = 0; i < kRows; ++i) batch.push_back(Statement::Of(ins, i, std::string(100, 'x')));
    auto lease = co_await pool.Acquire();
    CO_ASSERT_OK(lease);
    Connection& c = **lease;
    const std::size_t cached = c.cached_statements();
    auto r = co_await c.Pipeline(std::move(batch));
    CO_ASSERT_OK(r);
    CO_ASSERT(r->size() == kRows);
    EXPECT_EQ((*r)[kRows - 1].AffectedRows(), 1);
    EXPECT_EQ(c.cached_statements(), cached + 1);  // one Parse for the whole batch

    // A failing statement aborts the whole batch (implicit transaction).
    std::vector<Statement> bad;
    bad.push_back(Statement::Of(ins, kRows, "new"));
    bad.push_back(Statement::Of(ins, 0, "duplicate"));
    bad.push_back(Statement::Of(ins, kRows + 1, "new"));
    auto failed = co_await c.Pipeline(std::move(bad));
    CO_ASSERT(!failed.ok());
    EXPECT_EQ(failed.error().sqlstate, "23505");
    // Mixed reads in a pipeline, and the connection is back in normal mode.
    const std::string count_sql = "SELECT count(*) FROM " + t;
    std::vector<Statement> mixed;
    mixed.push_back(Statement::Of(count_sql));
    mixed.push_back(Statement::Of("SELECT $1::int8 + 1", 41));
    auto m = co_await c.Pipeline(std::move(mixed));
    CO_ASSERT_OK(m);
    EXPECT_EQ((*m)[0].GetInt64(0, 0), kRows);
    EXPECT_EQ((*m)[1].GetInt64(0, 0), 42);
    auto after = co_await c.Query(count_sql);
    CO_ASSERT_OK(after);
    EXPECT_EQ(after->GetInt64(0, 0), kRows);
    EXPECT_FALSE(c.broken());
  });
}

TEST_F(PgTest, PoolExhaustionWaitsAndTimesOut) {
  RunAsync([&](Executor ex) -> Task<void> {
    PoolOptions o = Options(2);
    o.acquire_timeout = 100ms;
    Pool pool(ex, o);
    auto l1 = co_await pool.Acquire();
    auto l2 = co_await pool.Acquire();
    CO_ASSERT_OK(l1);
    CO_ASSERT_OK(l2);
    EXPECT_EQ(pool.Stats().in_use, 2);
    const auto start = Pool::Clock::now();
    auto l3 = co_await pool.Acquire();
    CO_ASSERT(!l3.ok());
    EXPECT_EQ(l3.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(l3.error().message, "database pool exhausted");
    EXPECT_GE(Pool::Clock::now() - start, 100ms);
    EXPECT_EQ(pool.Stats().waiting, 0);

    const int pid1 = (*l1)->backend_pid();
    auto release_later = [&]() -> Task<void> {
      co_await Sleep(50ms);
      EXPECT_EQ(pool.Stats().waiting, 1);
      l1->Release();
    };
    auto wait = [&]() -> Task<Result<Lease>> {
      co_return co_await pool.Acquire(Pool::Clock::now() + 5s);
    };
    auto got = co_await (release_later() && wait());
    CO_ASSERT_OK(got);
    EXPECT_EQ((*got)->backend_pid(), pid1);  // the released connection, handed over
    EXPECT_EQ(pool.Stats().open, 2);
    EXPECT_EQ(pool.Stats().waiting, 0);
  });
}

TEST_F(PgTest, IdleLimitLifetimeAndGauges) {
  RunAsync([&](Executor ex) -> Task<void> {
    PoolOptions o = Options(3);
    o.max_idle = 1;
    o.surplus_idle = 200ms;
    Pool pool(ex, o);
    auto& gauges = metrics::Registry::Default().AddGauge("db_pool_connections", "",
                                                         {"service", "database", "state"});
    auto take_three = [&]() -> Task<std::set<std::int64_t>> {
      std::vector<Lease> leases;
      std::set<std::int64_t> pids;
      for (int i = 0; i < 3; ++i) {
        auto l = co_await pool.Acquire();
        EXPECT_TRUE(l.ok());
        if (!l) co_return pids;
        pids.insert((*l)->backend_pid());
        leases.push_back(std::move(*l));
      }
      EXPECT_EQ(gauges.With({"pg_test", name_, "in_use"}).Value(), 3.0);
      co_return pids;
    };
    const std::set<std::int64_t> first = co_await take_three();
    // Beyond max_idle, but within surplus_idle: kept, and the next burst reuses
    // them instead of dialling (no new backend).
    EXPECT_EQ(pool.Stats().open, 3);
    EXPECT_EQ(pool.Stats().idle, 3);
    const std::set<std::int64_t> second = co_await take_three();
    EXPECT_EQ(second, first);
    co_await Sleep(300ms);
    // Unused for longer than surplus_idle: closed down to max_idle at the next use.
    {
      auto l = co_await pool.Acquire();
      CO_ASSERT_OK(l);
      EXPECT_EQ(pool.Stats().open, 1);  // two closed beyond max_idle, the third lent
    }
    EXPECT_EQ(pool.Stats().open, 1);
    EXPECT_EQ(pool.Stats().idle, 1);
    EXPECT_EQ(gauges.With({"pg_test", name_, "idle"}).Value(), 1.0);
    EXPECT_EQ(gauges.With({"pg_test", name_, "in_use"}).Value(), 0.0);

    PoolOptions short_lived = Options(1);
    short_lived.database = name_ + "_b";
    short_lived.max_lifetime = 1ms;
    Pool recycling(ex, short_lived);
    {
      auto l = co_await recycling.Acquire();
      CO_ASSERT_OK(l);
      co_await Sleep(5ms);
    }
    EXPECT_EQ(recycling.Stats().open, 0);  // older than max_lifetime on release
  });
}

TEST_F(PgTest, KilledConnectionFailsThenPoolRecovers) {
  RunAsync([&](Executor ex) -> Task<void> {
    Pool pool(ex, Options(1));
    PoolOptions admin_opts = Options(1);
    admin_opts.database = name_ + "_admin";
    Pool admin(ex, admin_opts);
    auto pid = co_await pool.Query("SELECT pg_backend_pid()");
    CO_ASSERT_OK(pid);
    const std::int64_t old_pid = pid->GetInt64(0, 0);
    const double errors_before = ConnErrors();

    // Killed in the middle of a query.
    auto victim = [&]() -> Task<Result<PgResult>> {
      co_return co_await pool.Query("SELECT pg_sleep(30)");
    };
    auto killer = [&]() -> Task<void> {
      for (int i = 0; i < 500; ++i) {
        auto active = co_await admin.Query(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%'",
            old_pid);
        if (active && active->GetInt64(0, 0) == 1) break;
        co_await Sleep(10ms);
      }
      auto k = co_await admin.Query("SELECT pg_terminate_backend($1)", old_pid);
      EXPECT_TRUE(k.ok() && k->GetBool(0, 0));
    };
    auto failed = co_await (victim() && killer());
    CO_ASSERT(!failed.ok());
    EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(failed.error().sqlstate, "57P01");
    EXPECT_EQ(ConnErrors(), errors_before + 1);
    EXPECT_EQ(pool.Stats().open, 0);  // the dead connection was discarded

    auto again = co_await pool.Query("SELECT pg_backend_pid()");
    CO_ASSERT_OK(again);
    const std::int64_t new_pid = again->GetInt64(0, 0);
    EXPECT_NE(new_pid, old_pid);

    // Killed while idle in the pool: noticed at the latest by the first query.
    auto k = co_await admin.Query("SELECT pg_terminate_backend($1)", new_pid);
    CO_ASSERT_OK(k);
    for (int i = 0; i < 500; ++i) {
      auto gone =
          co_await admin.Query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", new_pid);
      CO_ASSERT_OK(gone);
      if (gone->GetInt64(0, 0) == 0) break;
      co_await Sleep(10ms);
    }
    co_await Sleep(20ms);
    auto first = co_await pool.Query("SELECT 1");
    if (!first) {
      EXPECT_EQ(first.error().code, ErrorCode::kUnavailable);
    }
    auto second = co_await pool.Query("SELECT pg_backend_pid()");
    CO_ASSERT_OK(second);
    EXPECT_NE(second->GetInt64(0, 0), new_pid);
    EXPECT_EQ(ConnErrors(), errors_before + 2);
  });
}

TEST_F(PgTest, UnreachableServerAndPing) {
  RunAsync([&](Executor ex) -> Task<void> {
    Pool good(ex, Options(1));
    Status ok = co_await good.Ping(2s);
    CO_ASSERT_OK(ok);

    PoolOptions o = Options(1);
    o.conninfo = "postgresql://postgres@127.0.0.1:1/postgres";  // nothing listens on port 1
    Pool bad(ex, o);
    const double before = ConnErrors();
    auto r = co_await bad.Query("SELECT 1");
    CO_ASSERT(!r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    Status ping = co_await bad.Ping(500ms);
    CO_ASSERT(!ping.ok());
    EXPECT_EQ(ConnErrors(), before + 2);
    EXPECT_EQ(bad.Stats().open, 0);

    // A ping that cannot finish in time fails with a deadline, not a hang.
    auto lease = co_await good.Acquire();
    CO_ASSERT_OK(lease);
    Status slow = co_await (*lease)->Ping(Pool::Clock::now() - 1ms);
    CO_ASSERT(!slow.ok());
    EXPECT_EQ(slow.error().code, ErrorCode::kDeadlineExceeded);
    EXPECT_TRUE((*lease)->broken());
  });
}

}  // namespace
}  // namespace tchat::pg
