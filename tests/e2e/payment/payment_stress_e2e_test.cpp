// Money under stress: many concurrent clients doing random transfers, refunds and
// payment requests between a few accounts (a hot spot on purpose) for a bounded
// time, then the ledger verification, an independent SQL check and the clients'
// own bookkeeping must agree. The crash test does the same against a private
// tchat-payment instance that is killed with SIGKILL and restarted during the
// load, while clients retry with the same keys.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <signal.h>
#include <unistd.h>

#include "payment_fixture.hpp"
#include "support/env.hpp"
#include "support/process.hpp"
#include "support/sql_probe.hpp"

namespace tchat::payment::e2e {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Headers = HeaderList;

// Built outside co_await expressions: GCC 12 mishandles braced initialisers there.
Headers KeyHeader(const std::string& key) {
  Headers h;
  h.emplace_back("Idempotency-Key", key);
  return h;
}

// Small enough that hot users run dry now and then (refusals are part of the mix).
constexpr std::int64_t kFunding = 40'000;  // THB minor units per user

// What the clients know for certain: every transfer they saw acknowledged,
// counted once by id, and the balances that follow from them.
struct Model {
  std::map<std::string, std::int64_t> balance;
  std::set<std::string> counted;
  struct Known {
    std::string id;
    std::size_t from = 0;
    std::size_t to = 0;
  };
  std::vector<Known> refundable;
  std::set<std::string> transfer_keys;  // keys of acknowledged transfers
  int transfers = 0, refunds = 0, request_payments = 0, refused = 0, retries = 0;
  int declined = 0, cancelled = 0;

  // Counts an acknowledged transfer object once.
  bool Apply(const json::value& t) {
    const std::string id(t.at("id").as_string());
    if (!counted.insert(id).second) return false;
    const std::int64_t amount = t.at("amount").as_int64();
    balance[std::string(t.at("from_user_id").as_string())] -= amount;
    balance[std::string(t.at("to_user_id").as_string())] += amount;
    return true;
  }
};

struct LoadOptions {
  int clients = 32;
  std::chrono::milliseconds duration{8000};
  // How long a client keeps retrying one operation before giving up (a failure).
  std::chrono::milliseconds give_up{60'000};
};

class Load {
 public:
  Load(client::ApiClient& api, std::vector<User> users, Model& model, LoadOptions options)
      : api_(api), users_(std::move(users)), model_(model), options_(options) {}

  int gave_up() const { return gave_up_; }

  // Runs `clients` coroutines on `io` until the duration has passed and every
  // operation in flight has a definitive answer.
  void Run(asio::io_context& io) {
    const auto stop = Clock::now() + options_.duration;
    int running = options_.clients;
    for (int c = 0; c < options_.clients; ++c) {
      asio::co_spawn(io, Client(static_cast<unsigned>(c), stop), [&running](std::exception_ptr e) {
        --running;
        if (e) std::rethrow_exception(e);
      });
    }
    io.restart();
    while (running > 0) io.run_one();
  }

 private:
  // A definitive refusal: the only ones this load can cause.
  void ExpectRefusal(const ApiResponse& r) {
    const std::string code = r.error_code();
    EXPECT_TRUE(code == "insufficient_funds" || code == "limit_exceeded") << r.status << r.raw;
    ++model_.refused;
  }

  // Sends until an answer that is not a transport failure or a 5xx arrives.
  Task<std::optional<ApiResponse>> Definitive(std::string method, std::string path, const User& u,
                                              std::string body, Headers h) {
    const auto give_up = Clock::now() + options_.give_up;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
      ApiRequest request = PaymentRequest(method, path, u.token, body, h);
      request.timeout = std::chrono::seconds(10);
      auto r = co_await api_.Send(std::move(request));
      if (r && r->status < 500) co_return std::move(*r);
      if (Clock::now() > give_up) {
        ++gave_up_;
        co_return std::nullopt;
      }
      ++model_.retries;
      timer.expires_after(std::chrono::milliseconds(50));
      (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  Task<void> Client(unsigned seed, Clock::time_point stop) {
    std::mt19937 rng(seed * 7919u + 17u);
    auto pick = [&](std::size_t n) {
      return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
    };
    while (Clock::now() < stop) {
      const std::size_t from = pick(users_.size());
      std::size_t to = pick(users_.size() - 1);
      if (to >= from) ++to;
      const std::int64_t amount = std::uniform_int_distribution<std::int64_t>(1, 5'000)(rng);
      const int op = std::uniform_int_distribution<int>(0, 99)(rng);
      if (op < 65) {
        const std::string key = NewKey();
        const std::string body = json::serialize(
            json::object{{"to_user_id", users_[to].id}, {"amount", amount}, {"currency", "THB"}});
        Headers h = KeyHeader(key);
        auto r = co_await Definitive("POST", "/v1/transfers", users_[from], body, h);
        if (!r) continue;
        if (r->status == 201) {
          if (model_.Apply(r->body)) ++model_.transfers;
          model_.transfer_keys.insert(users_[from].id + " " + key);
          model_.refundable.push_back({std::string(r->body.at("id").as_string()), from, to});
        } else {
          ExpectRefusal(*r);
        }
      } else if (op < 75) {
        if (model_.refundable.empty()) continue;
        const auto k = model_.refundable[pick(model_.refundable.size())];
        const std::string path = "/v1/transfers/" + k.id + "/refund";
        auto r = co_await Definitive("POST", path, users_[k.to], "{}", Headers());
        if (!r) continue;
        if (r->status == 201 || r->status == 200) {
          if (model_.Apply(r->body)) ++model_.refunds;
        } else {
          ExpectRefusal(*r);
        }
      } else {
        // to_user asks from_user; then pay, decline or cancel.
        const std::string body = json::serialize(json::object{
            {"from_user_id", users_[from].id}, {"amount", amount}, {"currency", "THB"}});
        Headers h = KeyHeader(NewKey());
        auto created = co_await Definitive("POST", "/v1/payment-requests", users_[to], body, h);
        if (!created) continue;
        EXPECT_EQ(created->status, 201) << created->raw;
        if (created->status != 201) continue;
        const std::string id(created->body.at("id").as_string());
        const int what = std::uniform_int_distribution<int>(0, 9)(rng);
        if (what < 7) {
          const std::string path = "/v1/payment-requests/" + id + "/pay";
          auto paid = co_await Definitive("POST", path, users_[from], "{}", Headers());
          if (!paid) continue;
          if (paid->status == 200) {
            if (model_.Apply(paid->body.at("transfer"))) ++model_.request_payments;
          } else {
            ExpectRefusal(*paid);
          }
        } else if (what < 9) {
          const std::string path = "/v1/payment-requests/" + id + "/decline";
          auto d = co_await Definitive("POST", path, users_[from], "{}", Headers());
          if (d && d->status == 200) ++model_.declined;
        } else {
          const std::string path = "/v1/payment-requests/" + id + "/cancel";
          auto c = co_await Definitive("POST", path, users_[to], "{}", Headers());
          if (c && c->status == 200) ++model_.cancelled;
        }
      }
    }
  }

  client::ApiClient& api_;
  std::vector<User> users_;
  Model& model_;
  LoadOptions options_;
  int gave_up_ = 0;
};

class PaymentStressTest : public PaymentE2ETest {
 protected:
  std::vector<User> FundedUsers(int n, Model& model) {
    std::vector<User> users;
    for (int i = 0; i < n; ++i) {
      users.push_back(NewUser());
      Fund(users.back(), kFunding);
      model.balance[users.back().id] = kFunding;
    }
    return users;
  }

  // Everything the test knows must agree with the service and the database.
  void CheckAgreement(const std::vector<User>& users, const Model& model) {
    ApiResponse v = Verify();
    ASSERT_EQ(v.status, 200) << v.raw;
    EXPECT_TRUE(v.body.at("ok").as_bool()) << v.raw;
    const auto problems = IndependentLedgerCheck(env_.database_url);
    for (const auto& p : problems) ADD_FAILURE() << p;

    std::int64_t total = 0;
    for (const auto& u : users) {
      const std::int64_t balance = Balance(u);
      EXPECT_EQ(balance, model.balance.at(u.id)) << u.id;
      EXPECT_GE(balance, 0);
      total += balance;
    }
    // Money only moved between these users: their total is what was put in.
    EXPECT_EQ(total, kFunding * static_cast<std::int64_t>(users.size()));

    // The database holds exactly the acknowledged transfers among these users,
    // each once, and each acknowledged key maps to one transfer.
    tchat::e2e::SqlProbe db(env_.database_url);
    ASSERT_TRUE(db.ok()) << db.error();
    std::string in;
    for (const auto& u : users) in += (in.empty() ? "'" : ",'") + u.id + "'";
    auto rows = db.Query("SELECT id::text FROM transfers WHERE from_user_id IN (" + in + ")");
    std::set<std::string> stored;
    for (const auto& r : rows) stored.insert(*r[0]);
    EXPECT_EQ(rows.size(), stored.size());
    EXPECT_EQ(stored, model.counted)
        << "db " << stored.size() << " vs acknowledged " << model.counted.size();
    auto keyed = db.Query(
        "SELECT from_user_id::text || ' ' || idempotency_key, count(*) FROM transfers "
        "WHERE idempotency_key IS NOT NULL AND from_user_id IN (" +
        in + ") GROUP BY 1");
    std::set<std::string> keys;
    for (const auto& r : keyed) {
      EXPECT_EQ(*r[1], "1") << *r[0];
      keys.insert(*r[0]);
    }
    EXPECT_EQ(keys, model.transfer_keys);
  }
};

TEST_F(PaymentStressTest, MoneyIsConservedUnderConcurrency) {
  Model model;
  std::vector<User> users = FundedUsers(5, model);
  ASSERT_FALSE(HasFatalFailure());
  Load load(api_->async(), users, model, LoadOptions{});
  load.Run(io_);
  EXPECT_EQ(load.gave_up(), 0);
  std::printf(
      "transfers %d, refunds %d, request payments %d, declined %d, cancelled %d, "
      "refused %d, retries %d\n",
      model.transfers, model.refunds, model.request_payments, model.declined, model.cancelled,
      model.refused, model.retries);
  EXPECT_GT(model.transfers, 100);
  EXPECT_GT(model.refunds, 0);
  EXPECT_GT(model.request_payments, 0);
  EXPECT_GT(model.refused, 0) << "no wallet ran dry: the hot spot was not exercised";
  CheckAgreement(users, model);
}

TEST_F(PaymentStressTest, CrashSafetyUnderLoad) {
  const std::string bin = tchat::e2e::RequireEnv("TCHAT_TEST_PAYMENT_BIN");
  char dir_template[] = "/tmp/tchat-payment-crash-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string jwks = std::string(dir_template) + "/jwks.json";
  std::ofstream(jwks) << tchat::e2e::Minter().Jwks();
  const int port = tchat::e2e::FreePort();
  tchat::e2e::ChildProcess svc(
      {bin},
      {"PORT=" + std::to_string(port), "DATABASE_URL=" + env_.database_url, "JWKS_FILE=" + jwks,
       "TCHAT_ADMIN_TOKEN=" + env_.admin_token, "TCHAT_PSP_WEBHOOK_SECRET=" + env_.webhook_secret,
       "TCHAT_AUTH_URL=" + env_.auth_url, "TCHAT_THREADS=2", "LOG_LEVEL=warn"});
  // The whole test talks to the private instance.
  UseService("http://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(svc.Start());
  ASSERT_TRUE(WaitReady()) << "private tchat-payment did not become ready";

  Model model;
  std::vector<User> users = FundedUsers(5, model);
  ASSERT_FALSE(HasFatalFailure());

  // Kill -9 twice during the load, restarting after a short outage; the killer
  // is a thread so that the clients' event loop keeps running.
  std::atomic<int> kills{0};
  std::atomic<bool> restart_failed{false};
  std::thread killer([&] {
    for (int i = 0; i < 2; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2500));
      svc.Stop(SIGKILL);
      ++kills;
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      if (!svc.Start()) restart_failed = true;
    }
  });
  Load load(api_->async(), users, model,
            LoadOptions{24, std::chrono::milliseconds(7000), std::chrono::milliseconds(60'000)});
  load.Run(io_);
  killer.join();
  ASSERT_FALSE(restart_failed.load());
  EXPECT_EQ(kills.load(), 2);
  ASSERT_TRUE(WaitReady());
  EXPECT_EQ(load.gave_up(), 0);
  std::printf("crash: transfers %d, refunds %d, request payments %d, refused %d, retries %d\n",
              model.transfers, model.refunds, model.request_payments, model.refused, model.retries);
  EXPECT_GT(model.retries, 0) << "the kills were not noticed by any client";
  EXPECT_GT(model.transfers, 50);
  CheckAgreement(users, model);
  svc.Stop(SIGTERM);
  std::remove(jwks.c_str());
  ::rmdir(dir_template);
}

}  // namespace
}  // namespace tchat::payment::e2e
