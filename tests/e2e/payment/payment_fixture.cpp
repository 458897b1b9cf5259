#include "payment_fixture.hpp"

#include <map>
#include <thread>

#include <tchat/client/webhook_signer.hpp>
#include <tchat/core/uuid.hpp>

#include "support/env.hpp"
#include "support/sql_probe.hpp"

namespace tchat::payment::e2e {

PaymentEnv PaymentEnv::Load() {
  using tchat::e2e::RequireEnv;
  PaymentEnv env;
  env.url = RequireEnv("TCHAT_TEST_PAYMENT_URL");
  env.admin_token = RequireEnv("TCHAT_TEST_ADMIN_TOKEN");
  env.webhook_secret = RequireEnv("TCHAT_TEST_PSP_WEBHOOK_SECRET");
  env.database_url = RequireEnv("TCHAT_TEST_PAYMENT_DATABASE_URL");
  env.auth_url = RequireEnv("TCHAT_TEST_AUTH_URL");
  tchat::e2e::Minter();  // TCHAT_TEST_JWT_KEY_FILE, checked before the first test needs it
  return env;
}

std::string MethodFor(const std::string& currency) {
  static const std::map<std::string, std::string> kMethods{
      {"THB", "promptpay"}, {"SGD", "paynow"}, {"IDR", "qris"}, {"MYR", "duitnow"},
      {"PHP", "gcash"},     {"VND", "vietqr"}, {"USD", "card"}};
  return kMethods.at(currency);
}

std::string NewKey() {
  return "key-" + NewUuidV7();
}

ApiRequest PaymentRequest(std::string method, std::string path, std::string token, std::string body,
                          HeaderList headers) {
  ApiRequest request(std::move(method), std::move(path), std::move(body), std::move(headers));
  request.bearer = std::move(token);
  return request;
}

void PaymentE2ETest::SetUp() {
  env_ = PaymentEnv::Load();
  UseService(env_.url);
}

void PaymentE2ETest::UseService(const std::string& url) {
  api_ = std::make_unique<client::BlockingApi>(io_, url);
}

ApiResponse PaymentE2ETest::Call(const std::string& method, const std::string& path,
                                 const std::string& token, const std::string& body,
                                 HeaderList headers) {
  ApiResponse r = api_->Send(PaymentRequest(method, path, token, body, std::move(headers)));
  EXPECT_NE(r.status, 0) << method << " " << path << ": " << r.raw;
  return r;
}

ApiResponse PaymentE2ETest::Transfer(const User& from, const std::string& to_id,
                                     std::int64_t amount, const std::string& currency,
                                     std::string key, json::object extra) {
  extra["to_user_id"] = to_id;
  extra["amount"] = amount;
  extra["currency"] = currency;
  if (key.empty()) key = NewKey();
  return Post("/v1/transfers", from, json::serialize(extra), {{"Idempotency-Key", key}});
}

json::object PaymentE2ETest::CreateTopup(const User& u, std::int64_t amount,
                                         const std::string& currency) {
  json::object body{{"amount", amount}, {"currency", currency}, {"method", MethodFor(currency)}};
  ApiResponse r = Post("/v1/topups", u, json::serialize(body));
  EXPECT_EQ(r.status, 201) << r.raw;
  if (r.status != 201 || !r.body.is_object()) return {};
  return r.body.as_object();
}

ApiResponse PaymentE2ETest::Webhook(const std::string& body, std::int64_t t,
                                    const std::string& secret_override) {
  if (t == 0) t = client::UnixNow();
  const std::string& secret = secret_override.empty() ? env_.webhook_secret : secret_override;
  return Call("POST", "/v1/webhooks/psp", "", body,
              {{"Tchat-Signature", client::SignWebhook(secret, t, body)}});
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
  ASSERT_EQ(w.status, 200) << w.raw;
  ASSERT_EQ(w.body.at("status").as_string(), "applied");
}

std::int64_t PaymentE2ETest::Balance(const User& u, const std::string& currency) {
  ApiResponse r = Get("/v1/wallets", u);
  EXPECT_EQ(r.status, 200) << r.raw;
  if (r.status != 200) return -1;
  for (const auto& w : r.body.at("wallets").as_array()) {
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
    ApiRequest probe("GET", "/health/ready");
    probe.timeout = std::chrono::milliseconds(500);
    if (api_->Send(std::move(probe)).status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::vector<std::string> IndependentLedgerCheck(const std::string& database_url) {
  std::vector<std::string> problems;
  tchat::e2e::SqlProbe db(database_url);
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
