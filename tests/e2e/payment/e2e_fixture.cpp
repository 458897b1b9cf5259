#include "e2e_fixture.hpp"

#include <thread>

#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tchat/core/uuid.hpp>

namespace tchat::payment::e2e {

std::string E2EEnv::Load(E2EEnv& out) {
  using testing::Env;
  std::string missing;
  auto need = [&](const char* name, std::string& dst) {
    dst = Env(name);
    if (dst.empty()) missing += std::string(missing.empty() ? "" : ", ") + name;
  };
  std::string key_file;
  need("TCHAT_TEST_PAYMENT_URL", out.url);
  need("TCHAT_TEST_JWT_KEY_FILE", key_file);
  need("TCHAT_TEST_ADMIN_TOKEN", out.admin_token);
  need("TCHAT_TEST_PSP_WEBHOOK_SECRET", out.webhook_secret);
  need("TCHAT_TEST_PAYMENT_DATABASE_URL", out.database_url);
  if (!missing.empty()) return "environment not set: " + missing;
  auto minter = TokenMinter::FromKeyFile(key_file);
  if (!minter) return "TCHAT_TEST_JWT_KEY_FILE: " + minter.error().message;
  out.minter = std::make_shared<TokenMinter>(std::move(*minter));
  return {};
}

std::string MethodFor(const std::string& currency) {
  static const std::map<std::string, std::string> kMethods{
      {"THB", "promptpay"}, {"SGD", "paynow"}, {"IDR", "qris"}, {"MYR", "duitnow"},
      {"PHP", "gcash"},     {"VND", "vietqr"}, {"USD", "card"}};
  return kMethods.at(currency);
}

void PaymentE2ETest::SetUp() {
  const std::string problem = E2EEnv::Load(env_);
  ASSERT_TRUE(problem.empty()) << problem;
  api_ = std::make_unique<PaymentApi>(io_.get_executor(), env_.url);
}

User PaymentE2ETest::NewUser() {
  User u;
  u.id = NewUuidV7();
  u.token = env_.minter->Mint(u.id);
  return u;
}

ApiResponse PaymentE2ETest::Call(const std::string& method, const std::string& path,
                                 const std::string& token, const std::string& body,
                                 std::vector<std::pair<std::string, std::string>> headers) {
  auto r = RunSync(io_, api_->Call(method, path, token, body, std::move(headers)));
  EXPECT_TRUE(r.ok()) << method << " " << path << ": " << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return ApiResponse{};
  return std::move(*r);
}

ApiResponse PaymentE2ETest::Transfer(const User& from, const std::string& to_id,
                                     std::int64_t amount, const std::string& currency,
                                     std::string key, json::object extra) {
  extra["to_user_id"] = to_id;
  extra["amount"] = amount;
  extra["currency"] = currency;
  if (key.empty()) key = testing::NewKey();
  return Post("/v1/transfers", from, json::serialize(extra), {{"Idempotency-Key", key}});
}

json::object PaymentE2ETest::CreateTopup(const User& u, std::int64_t amount,
                                         const std::string& currency) {
  json::object body{{"amount", amount}, {"currency", currency}, {"method", MethodFor(currency)}};
  ApiResponse r = Post("/v1/topups", u, json::serialize(body));
  EXPECT_EQ(r.status, 201) << r.body;
  if (r.status != 201 || !r.json.is_object()) return {};
  return r.json.as_object();
}

ApiResponse PaymentE2ETest::Webhook(const std::string& body, std::int64_t t,
                                    const std::string& secret_override) {
  if (t == 0) t = testing::UnixNow();
  const std::string& secret = secret_override.empty() ? env_.webhook_secret : secret_override;
  return Call("POST", "/v1/webhooks/psp", "", body,
              {{"Tchat-Signature", testing::SignWebhook(secret, t, body)}});
}

std::string PaymentE2ETest::WebhookBody(const std::string& event_id, const std::string& type,
                                        const std::string& reference, std::int64_t amount,
                                        const std::string& currency) {
  json::object o{{"id", event_id},
                 {"type", type},
                 {"reference", reference},
                 {"amount", amount},
                 {"currency", currency}};
  return json::serialize(o);
}

void PaymentE2ETest::Fund(const User& u, std::int64_t amount, const std::string& currency) {
  json::object topup = CreateTopup(u, amount, currency);
  ASSERT_TRUE(topup.contains("provider_reference"));
  const std::string ref(topup.at("provider_reference").as_string());
  ApiResponse w =
      Webhook(WebhookBody("evt_" + NewUuidV7(), "topup.succeeded", ref, amount, currency));
  ASSERT_EQ(w.status, 200) << w.body;
  ASSERT_EQ(w.json.at("status").as_string(), "applied");
}

std::int64_t PaymentE2ETest::Balance(const User& u, const std::string& currency) {
  ApiResponse r = Get("/v1/wallets", u);
  EXPECT_EQ(r.status, 200) << r.body;
  if (r.status != 200) return -1;
  for (const auto& w : r.json.at("wallets").as_array()) {
    if (w.at("currency").as_string() == currency) return w.at("balance").as_int64();
  }
  return 0;
}

ApiResponse PaymentE2ETest::Verify() {
  return Call("GET", "/v1/admin/ledger/verify", env_.admin_token);
}

bool PaymentE2ETest::WaitReady(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    auto r = RunSync(
        io_, api_->Call("GET", "/health/ready", "", {}, {}, std::chrono::milliseconds(500)));
    if (r && r->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

bool ServiceProcess::Start() {
  std::vector<char*> argv{bin_.data(), nullptr};
  std::vector<char*> envp;
  for (auto& e : env_) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  const int rc = posix_spawn(&pid_, bin_.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0;
}

void ServiceProcess::Stop(int sig) {
  if (pid_ <= 0) return;
  ::kill(pid_, sig);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::vector<std::string> IndependentLedgerCheck(const std::string& database_url) {
  std::vector<std::string> problems;
  testing::SqlProbe db(database_url);
  if (!db.ok()) return {"cannot connect: " + db.error()};
  // One snapshot for every query.
  db.Query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  const std::pair<const char*, const char*> checks[] = {
      {"currency postings do not sum to zero",
       "SELECT count(*) FROM (SELECT currency FROM postings GROUP BY currency "
       "HAVING sum(amount) <> 0) x"},
      {"currency balances do not sum to zero",
       "SELECT count(*) FROM (SELECT currency FROM accounts GROUP BY currency "
       "HAVING sum(balance) <> 0) x"},
      {"negative user or system wallet",
       "SELECT count(*) FROM accounts WHERE kind <> 'clearing' AND balance < 0"},
      {"cached balance differs from its postings",
       "SELECT count(*) FROM accounts a WHERE a.balance <> "
       "(SELECT COALESCE(sum(p.amount), 0) FROM postings p WHERE p.account_id = a.id)"},
      {"entry unbalanced or with fewer than two postings",
       "SELECT count(*) FROM (SELECT entry_id FROM postings GROUP BY entry_id "
       "HAVING sum(amount) <> 0 OR count(*) < 2) x"},
      {"transfer without exactly two postings",
       "SELECT count(*) FROM transfers t LEFT JOIN (SELECT entry_id, count(*) AS n FROM postings "
       "GROUP BY entry_id) p ON p.entry_id = t.entry_id WHERE COALESCE(p.n, 0) <> 2"},
      {"idempotency key applied more than once",
       "SELECT count(*) FROM (SELECT from_user_id, idempotency_key FROM transfers "
       "WHERE idempotency_key IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) x"},
      {"successful idempotency key without exactly one resource",
       "SELECT count(*) FROM idempotency_keys k WHERE k.result_code = 'ok' AND "
       "(SELECT count(*) FROM transfers t WHERE t.id = k.resource_id) + "
       "(SELECT count(*) FROM topups u WHERE u.id = k.resource_id) + "
       "(SELECT count(*) FROM withdrawals w WHERE w.id = k.resource_id) + "
       "(SELECT count(*) FROM payment_requests r WHERE r.id = k.resource_id) <> 1"},
  };
  for (const auto& [what, sql] : checks) {
    const std::string n = db.Scalar(sql);
    if (n != "0") problems.push_back(std::string(what) + ": " + (n.empty() ? db.error() : n));
  }
  db.Query("COMMIT");
  return problems;
}

}  // namespace tchat::payment::e2e
