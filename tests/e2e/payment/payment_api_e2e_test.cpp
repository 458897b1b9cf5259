// Every payment endpoint through real HTTP against the running service and its
// real PostgreSQL: happy paths, validation, domain errors, idempotency,
// authorisation, webhooks and the ledger verification.
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <tchat/client/webhook_signer.hpp>
#include <tchat/core/jwt/jwt_signer.hpp>
#include <tchat/core/uuid.hpp>

#include "payment_fixture.hpp"
#include "support/sql_probe.hpp"

namespace tchat::payment::e2e {
namespace {

std::string Str(const json::value& v, const char* key) {
  return std::string(v.at(key).as_string());
}

class PaymentApiTest : public PaymentE2ETest {};

// ---- authentication, wallets ----

TEST_F(PaymentApiTest, RequiresAValidToken) {
  EXPECT_EQ(Call("GET", "/v1/wallets", "").status, 401);
  EXPECT_EQ(Call("GET", "/v1/wallets", "not-a-token").status, 401);
  // A token signed by a key the service does not trust.
  auto other = jwt::Ed25519KeyPair::Generate("rogue");
  jwt::JwtSigner rogue(other);
  jwt::Claims c;
  c.issuer = "tchat-auth";
  c.audience = "tchat";
  c.subject = NewUuidV7();
  c.session_id = NewUuidV7();
  c.issued_at = std::chrono::system_clock::now();
  c.expires_at = c.issued_at + std::chrono::minutes(5);
  EXPECT_EQ(Call("GET", "/v1/wallets", rogue.Sign(c)).status, 401);
  EXPECT_EQ(Call("POST", "/v1/transfers", "", R"({"to_user_id":"x"})").status, 401);
}

TEST_F(PaymentApiTest, NewUserHasNoWallets) {
  User u = NewUser();
  ApiResponse r = Get("/v1/wallets", u);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(r.body.at("wallets").as_array().empty());
}

// ---- top-ups and provider webhooks ----

TEST_F(PaymentApiTest, TopupCreditsOnceThroughSignedWebhook) {
  User u = NewUser();
  json::object t = CreateTopup(u, 12'345, "THB");
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.at("status").as_string(), "pending");
  EXPECT_EQ(t.at("method").as_string(), "promptpay");
  EXPECT_EQ(t.at("amount").as_int64(), 12'345);
  const std::string ref(t.at("provider_reference").as_string());
  const std::string id(t.at("id").as_string());
  EXPECT_EQ(Balance(u), 0);  // nothing before the provider confirms

  const std::string body = WebhookBody("evt_" + NewUuidV7(), "topup.succeeded", ref, 12'345, "THB");
  ApiResponse w = Webhook(body);
  ASSERT_EQ(w.status, 200) << w.raw;
  EXPECT_EQ(w.body.at("status").as_string(), "applied");
  EXPECT_EQ(Balance(u), 12'345);

  // The same event again (a replay), and the same outcome under a new event id.
  ApiResponse again = Webhook(body);
  ASSERT_EQ(again.status, 200) << again.raw;
  EXPECT_EQ(again.body.at("status").as_string(), "duplicate");
  ApiResponse dup =
      Webhook(WebhookBody("evt_" + NewUuidV7(), "topup.succeeded", ref, 12'345, "THB"));
  ASSERT_EQ(dup.status, 200) << dup.raw;
  EXPECT_EQ(dup.body.at("status").as_string(), "ignored");
  // A late failure report changes nothing either.
  ApiResponse late = Webhook(WebhookBody("evt_" + NewUuidV7(), "topup.failed", ref, 12'345, "THB"));
  EXPECT_EQ(late.body.at("status").as_string(), "ignored");
  EXPECT_EQ(Balance(u), 12'345);

  ApiResponse got = Get("/v1/topups/" + id, u);
  ASSERT_EQ(got.status, 200) << got.raw;
  EXPECT_EQ(Str(got.body, "status"), "succeeded");
  EXPECT_EQ(Get("/v1/topups/" + id, NewUser()).status, 404);

  ApiResponse hist = Get("/v1/transactions", u);
  ASSERT_EQ(hist.status, 200) << hist.raw;
  const auto& lines = hist.body.at("transactions").as_array();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Str(lines[0], "kind"), "topup");
  EXPECT_EQ(lines[0].at("amount").as_int64(), 12'345);
  EXPECT_EQ(lines[0].at("balance_after").as_int64(), 12'345);
  EXPECT_EQ(Str(lines[0], "reference_id"), id);
}

TEST_F(PaymentApiTest, WebhookRejectionsNeverCreditMoney) {
  User u = NewUser();
  json::object t = CreateTopup(u, 5'000, "PHP");
  ASSERT_FALSE(t.empty());
  const std::string ref(t.at("provider_reference").as_string());
  const std::string good = WebhookBody("evt_" + NewUuidV7(), "topup.succeeded", ref, 5'000, "PHP");
  const std::int64_t now = client::UnixNow();

  // Bad signature (wrong secret), tampered body, stale and future timestamps.
  EXPECT_EQ(Webhook(good, now, "wrong-secret").status, 401);
  {
    const std::string sig = client::SignWebhook(env_.webhook_secret, now, good);
    const std::string tampered = WebhookBody("evt_x", "topup.succeeded", ref, 50'000, "PHP");
    EXPECT_EQ(Call("POST", "/v1/webhooks/psp", "", tampered, {{"Tchat-Signature", sig}}).status,
              401);
  }
  EXPECT_EQ(Webhook(good, now - 301).status, 401);
  // Future: far enough past the 300 s tolerance that the seconds this test takes
  // (ASan services are slow) cannot bring it back inside.
  EXPECT_EQ(Webhook(good, now + 330).status, 401);
  EXPECT_EQ(Call("POST", "/v1/webhooks/psp", "", good).status, 401);  // no header
  EXPECT_EQ(Call("POST", "/v1/webhooks/psp", "", good, {{"Tchat-Signature", "garbage"}}).status,
            401);
  // Signed but wrong: amount, currency, unknown reference, malformed body.
  ApiResponse mismatch =
      Webhook(WebhookBody("evt_" + NewUuidV7(), "topup.succeeded", ref, 5'001, "PHP"));
  EXPECT_EQ(mismatch.status, 422) << mismatch.raw;
  EXPECT_EQ(mismatch.error_code(), "amount_mismatch");
  ApiResponse currency =
      Webhook(WebhookBody("evt_" + NewUuidV7(), "topup.succeeded", ref, 5'000, "THB"));
  EXPECT_EQ(currency.status, 422) << currency.raw;
  ApiResponse unknown = Webhook(WebhookBody("evt_" + NewUuidV7(), "topup.succeeded",
                                            "psp_nope_" + NewUuidV7(), 5'000, "PHP"));
  EXPECT_EQ(unknown.status, 404) << unknown.raw;
  // A withdrawal event cannot settle a top-up reference.
  ApiResponse kind =
      Webhook(WebhookBody("evt_" + NewUuidV7(), "withdrawal.failed", ref, 5'000, "PHP"));
  EXPECT_EQ(kind.status, 404) << kind.raw;
  EXPECT_EQ(Webhook(R"({"id":"evt_y","type":"topup.succeeded"})").status, 400);
  EXPECT_EQ(Webhook("not json").status, 400);
  EXPECT_EQ(Webhook(WebhookBody("evt_z", "topup.refunded", ref, 5'000, "PHP")).status, 400);

  EXPECT_EQ(Balance(u, "PHP"), 0);
  EXPECT_EQ(Str(Get("/v1/topups/" + std::string(t.at("id").as_string()), u).body, "status"),
            "pending");

  // The record is still pending and settles with the correct event.
  ApiResponse ok = Webhook(good);
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(Balance(u, "PHP"), 5'000);

  ApiResponse metrics = Call("GET", "/metrics", "");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.raw.find("payment_webhook_rejections_total{reason=\"bad_signature\"}"),
            std::string::npos);
  EXPECT_NE(metrics.raw.find("payment_webhook_rejections_total{reason=\"stale_timestamp\"}"),
            std::string::npos);
  EXPECT_NE(metrics.raw.find("payment_webhook_rejections_total{reason=\"amount_mismatch\"}"),
            std::string::npos);
}

TEST_F(PaymentApiTest, FailedTopupCreditsNothing) {
  User u = NewUser();
  json::object t = CreateTopup(u, 700, "SGD");
  const std::string ref(t.at("provider_reference").as_string());
  ApiResponse f = Webhook(WebhookBody("evt_" + NewUuidV7(), "topup.failed", ref, 700, "SGD"));
  ASSERT_EQ(f.status, 200) << f.raw;
  EXPECT_EQ(f.body.at("status").as_string(), "applied");
  ApiResponse s = Webhook(WebhookBody("evt_" + NewUuidV7(), "topup.succeeded", ref, 700, "SGD"));
  EXPECT_EQ(s.body.at("status").as_string(), "ignored");
  EXPECT_EQ(Balance(u, "SGD"), 0);
}

TEST_F(PaymentApiTest, TopupValidation) {
  User u = NewUser();
  auto post = [&](const std::string& body) { return Post("/v1/topups", u, body).status; };
  EXPECT_EQ(post(R"({"amount":100,"currency":"THB","method":"gcash"})"), 400);
  EXPECT_EQ(post(R"({"amount":100,"currency":"EUR","method":"card"})"), 400);
  EXPECT_EQ(post(R"({"amount":0,"currency":"THB","method":"promptpay"})"), 400);
  EXPECT_EQ(post(R"({"amount":-5,"currency":"THB","method":"promptpay"})"), 400);
  EXPECT_EQ(post(R"({"amount":1.5,"currency":"THB","method":"promptpay"})"), 400);
  EXPECT_EQ(post(R"({"amount":"100","currency":"THB","method":"promptpay"})"), 400);
  EXPECT_EQ(post(R"({"amount":100,"currency":"THB"})"), 400);
  EXPECT_EQ(post("[]"), 400);
  EXPECT_EQ(post(R"({"amount":100,"currency":"THB","method":"promptpay"})"), 201);
  EXPECT_EQ(post(R"({"amount":100,"currency":"VND","method":"momo"})"), 201);
}

// ---- transfers ----

TEST_F(PaymentApiTest, TransferMovesMoneyBetweenTheTwoParties) {
  User a = NewUser();
  User b = NewUser();
  User c = NewUser();
  Fund(a, 100'000);
  const std::string conversation = NewUuidV7();
  ApiResponse r = Transfer(a, b.id, 2'500, "THB", {},
                           json::object{{"note", "lunch 🍜"}, {"conversation_id", conversation}});
  ASSERT_EQ(r.status, 201) << r.raw;
  const json::value& t = r.body;
  EXPECT_EQ(Str(t, "from_user_id"), a.id);
  EXPECT_EQ(Str(t, "to_user_id"), b.id);
  EXPECT_EQ(t.at("amount").as_int64(), 2'500);
  EXPECT_EQ(Str(t, "currency"), "THB");
  EXPECT_EQ(Str(t, "note"), "lunch 🍜");
  EXPECT_EQ(Str(t, "conversation_id"), conversation);
  EXPECT_EQ(Str(t, "status"), "completed");
  EXPECT_EQ(Str(t, "created_at").size(), 24u);  // 2026-01-01T00:00:00.000Z
  const std::string id = Str(t, "id");

  EXPECT_EQ(Balance(a), 97'500);
  EXPECT_EQ(Balance(b), 2'500);
  ApiResponse by_a = Get("/v1/transfers/" + id, a);
  ASSERT_EQ(by_a.status, 200);
  EXPECT_EQ(Str(by_a.body, "id"), id);
  EXPECT_EQ(Get("/v1/transfers/" + id, b).status, 200);
  EXPECT_EQ(Get("/v1/transfers/" + id, c).status, 404);  // not a party
  EXPECT_EQ(Get("/v1/transfers/" + NewUuidV7(), a).status, 404);
  EXPECT_EQ(Get("/v1/transfers/not-a-uuid", a).status, 404);

  ApiResponse ha = Get("/v1/transactions?currency=THB", a);
  ASSERT_EQ(ha.status, 200) << ha.raw;
  const auto& la = ha.body.at("transactions").as_array();
  ASSERT_EQ(la.size(), 2u);
  EXPECT_EQ(Str(la[0], "kind"), "transfer");
  EXPECT_EQ(la[0].at("amount").as_int64(), -2'500);
  EXPECT_EQ(la[0].at("balance_after").as_int64(), 97'500);
  EXPECT_EQ(Str(la[0], "counterparty_user_id"), b.id);
  EXPECT_EQ(Str(la[0], "reference_id"), id);
  EXPECT_TRUE(ha.body.at("next_cursor").is_null());
  ApiResponse hb = Get("/v1/transactions", b);
  const auto& lb = hb.body.at("transactions").as_array();
  ASSERT_EQ(lb.size(), 1u);
  EXPECT_EQ(lb[0].at("amount").as_int64(), 2'500);
  EXPECT_EQ(lb[0].at("balance_after").as_int64(), 2'500);
  EXPECT_EQ(Str(lb[0], "counterparty_user_id"), a.id);
  EXPECT_TRUE(Get("/v1/transactions", c).body.at("transactions").as_array().empty());
}

TEST_F(PaymentApiTest, TransferValidation) {
  User a = NewUser();
  User b = NewUser();
  Fund(a, 10'000);
  auto post = [&](const std::string& body, bool with_key = true) {
    std::vector<std::pair<std::string, std::string>> h;
    if (with_key) h.emplace_back("Idempotency-Key", NewKey());
    return Post("/v1/transfers", a, body, h);
  };
  const std::string to = "\"to_user_id\":\"" + b.id + "\"";
  EXPECT_EQ(post("{" + to + R"(,"amount":100,"currency":"THB"})", false).status, 400);
  EXPECT_EQ(post(R"({"to_user_id":")" + a.id + R"(","amount":100,"currency":"THB"})").status, 400);
  EXPECT_EQ(post("{" + to + R"(,"amount":0,"currency":"THB"})").status, 400);
  EXPECT_EQ(post("{" + to + R"(,"amount":-100,"currency":"THB"})").status, 400);
  EXPECT_EQ(post("{" + to + R"(,"amount":10.5,"currency":"THB"})").status, 400);
  EXPECT_EQ(post("{" + to + R"(,"amount":"100","currency":"THB"})").status, 400);
  EXPECT_EQ(post("{" + to + R"(,"amount":99999999999999999999,"currency":"THB"})").status, 400);
  EXPECT_EQ(post("{" + to + R"(,"amount":100,"currency":"EUR"})").status, 400);
  EXPECT_EQ(post("{" + to + R"(,"amount":100,"currency":"thb"})").status, 400);
  EXPECT_EQ(post("{" + to + R"(,"amount":100})").status, 400);
  EXPECT_EQ(post(R"({"to_user_id":"bob","amount":100,"currency":"THB"})").status, 400);
  EXPECT_EQ(post("{" + to + R"(,"amount":100,"currency":"THB","conversation_id":"c1"})").status,
            400);
  EXPECT_EQ(post("{" + to + R"(,"amount":100,"currency":"THB","note":5})").status, 400);
  EXPECT_EQ(
      post("{" + to + R"(,"amount":100,"currency":"THB","note":")" + std::string(501, 'x') + "\"}")
          .status,
      400);
  EXPECT_EQ(post("{not json").status, 400);
  ApiResponse err = post("{" + to + R"(,"amount":0,"currency":"THB"})");
  EXPECT_EQ(err.error_code(), "invalid_argument");
  EXPECT_EQ(Balance(a), 10'000);  // nothing moved
}

TEST_F(PaymentApiTest, InsufficientFundsAndLimits) {
  User a = NewUser();
  User b = NewUser();
  Fund(a, 1'000);
  ApiResponse poor = Transfer(a, b.id, 1'001);
  EXPECT_EQ(poor.status, 422);
  EXPECT_EQ(poor.error_code(), "insufficient_funds");
  EXPECT_EQ(Transfer(a, b.id, 1'000).status, 201);  // exactly the balance is fine
  EXPECT_EQ(Balance(a), 0);
  EXPECT_EQ(Transfer(a, b.id, 1).error_code(), "insufficient_funds");

  // USD: 3,000 per transfer and per day by default (docs/api/openapi.yaml, payment).
  User rich = NewUser();
  Fund(rich, 500'000, "USD");
  ApiResponse big = Transfer(rich, b.id, 300'001, "USD");
  EXPECT_EQ(big.status, 422);
  EXPECT_EQ(big.error_code(), "limit_exceeded");
  EXPECT_EQ(Transfer(rich, b.id, 250'000, "USD").status, 201);
  ApiResponse daily = Transfer(rich, b.id, 60'000, "USD");
  EXPECT_EQ(daily.status, 422) << daily.raw;
  EXPECT_EQ(daily.error_code(), "limit_exceeded");
  EXPECT_EQ(Transfer(rich, b.id, 50'000, "USD").status, 201);  // exactly up to the day's limit
  EXPECT_EQ(Transfer(rich, b.id, 1, "USD").error_code(), "limit_exceeded");
  EXPECT_EQ(Balance(rich, "USD"), 200'000);
  EXPECT_EQ(Balance(b, "USD"), 300'000);
  // Limits are per currency.
  Fund(rich, 1'000, "THB");
  EXPECT_EQ(Transfer(rich, b.id, 1'000, "THB").status, 201);
}

TEST_F(PaymentApiTest, IdempotencyKeySemantics) {
  User a = NewUser();
  User b = NewUser();
  Fund(a, 10'000);
  const std::string key = NewKey();
  ApiResponse first = Transfer(a, b.id, 1'000, "THB", key, json::object{{"note", "rent"}});
  ASSERT_EQ(first.status, 201) << first.raw;
  EXPECT_FALSE(first.headers.Has("Idempotent-Replayed"));
  ApiResponse second = Transfer(a, b.id, 1'000, "THB", key, json::object{{"note", "rent"}});
  ASSERT_EQ(second.status, 201) << second.raw;
  EXPECT_EQ(second.raw, first.raw);  // the original answer, byte for byte
  EXPECT_EQ(second.headers.Get("Idempotent-Replayed"), std::optional<std::string_view>("true"));
  EXPECT_EQ(Balance(a), 9'000);

  ApiResponse reused = Transfer(a, b.id, 1'001, "THB", key, json::object{{"note", "rent"}});
  EXPECT_EQ(reused.status, 422);
  EXPECT_EQ(reused.error_code(), "idempotency_key_reused");
  EXPECT_EQ(Transfer(a, b.id, 1'000, "THB", key).error_code(), "idempotency_key_reused");
  EXPECT_EQ(Balance(a), 9'000);

  // Keys belong to their user: b may use the same key for its own transfer.
  Fund(b, 500);
  ApiResponse theirs = Transfer(b, a.id, 500, "THB", key);
  EXPECT_EQ(theirs.status, 201) << theirs.raw;

  // A refused transfer is answered the same way on retry, even after a top-up.
  const std::string poor_key = NewKey();
  EXPECT_EQ(Transfer(a, b.id, 50'000, "THB", poor_key).error_code(), "insufficient_funds");
  Fund(a, 100'000);
  EXPECT_EQ(Transfer(a, b.id, 50'000, "THB", poor_key).error_code(), "insufficient_funds");
  EXPECT_EQ(Balance(a), 109'500);
}

TEST_F(PaymentApiTest, ConcurrentDuplicatesMakeOneTransfer) {
  User a = NewUser();
  User b = NewUser();
  Fund(a, 1'000'000);
  const std::string key = NewKey();
  const std::string body =
      json::serialize(json::object{{"to_user_id", b.id}, {"amount", 777}, {"currency", "THB"}});
  constexpr int kCopies = 64;
  // All at once, on as many connections.
  std::vector<ApiRequest> copies(
      kCopies, PaymentRequest("POST", "/v1/transfers", a.token, body, {{"Idempotency-Key", key}}));
  std::vector<ApiResponse> answers = api_->Concurrently(std::move(copies));
  std::set<std::string> ids;
  for (const auto& r : answers) {
    ASSERT_EQ(r.status, 201) << r.raw;
    ids.insert(Str(r.body, "id"));
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(Balance(a), 1'000'000 - 777);
  EXPECT_EQ(Balance(b), 777);
  tchat::e2e::SqlProbe db(env_.database_url);
  ASSERT_TRUE(db.ok()) << db.error();
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM transfers WHERE from_user_id = '" + a.id + "'"), "1");
}

// ---- refunds ----

TEST_F(PaymentApiTest, RecipientRefundsOnce) {
  User a = NewUser();
  User b = NewUser();
  User c = NewUser();
  Fund(a, 5'000);
  ApiResponse t = Transfer(a, b.id, 3'000);
  ASSERT_EQ(t.status, 201);
  const std::string id = Str(t.body, "id");
  EXPECT_EQ(Post("/v1/transfers/" + id + "/refund", a).status, 403);  // the sender cannot
  EXPECT_EQ(Post("/v1/transfers/" + id + "/refund", c).status, 404);  // a stranger sees nothing
  ApiResponse r = Post("/v1/transfers/" + id + "/refund", b);
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(Str(r.body, "kind"), "refund");
  EXPECT_EQ(Str(r.body, "refund_of"), id);
  EXPECT_EQ(Str(r.body, "from_user_id"), b.id);
  EXPECT_EQ(Str(r.body, "to_user_id"), a.id);
  EXPECT_EQ(r.body.at("amount").as_int64(), 3'000);
  EXPECT_EQ(Balance(a), 5'000);
  EXPECT_EQ(Balance(b), 0);
  ApiResponse again = Post("/v1/transfers/" + id + "/refund", b);
  ASSERT_EQ(again.status, 200) << again.raw;
  EXPECT_EQ(Str(again.body, "id"), Str(r.body, "id"));
  EXPECT_EQ(Balance(a), 5'000);
  EXPECT_EQ(Str(Get("/v1/transfers/" + id, a).body, "status"), "refunded");
  EXPECT_EQ(Str(Get("/v1/transfers/" + id, a).body, "refunded_by"), Str(r.body, "id"));
  // A refund is not refundable.
  EXPECT_EQ(Post("/v1/transfers/" + Str(r.body, "id") + "/refund", a).status, 409);

  // The recipient has spent the money: the refund is refused, nothing moves.
  ApiResponse t2 = Transfer(a, b.id, 2'000);
  ASSERT_EQ(t2.status, 201);
  ASSERT_EQ(Transfer(b, c.id, 1'500).status, 201);
  ApiResponse poor = Post("/v1/transfers/" + Str(t2.body, "id") + "/refund", b);
  EXPECT_EQ(poor.status, 422);
  EXPECT_EQ(poor.error_code(), "insufficient_funds");
  EXPECT_EQ(Str(Get("/v1/transfers/" + Str(t2.body, "id"), b).body, "status"), "completed");
}

// ---- payment requests ----

TEST_F(PaymentApiTest, PaymentRequestLifecycle) {
  User payer = NewUser();
  User requester = NewUser();
  User stranger = NewUser();
  Fund(payer, 10'000);
  const std::string conversation = NewUuidV7();
  json::object body{{"from_user_id", payer.id},
                    {"amount", 4'200},
                    {"currency", "THB"},
                    {"note", "dinner"},
                    {"conversation_id", conversation}};
  ApiResponse created = Post("/v1/payment-requests", requester, json::serialize(body));
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_EQ(Str(created.body, "status"), "pending");
  EXPECT_EQ(Str(created.body, "from_user_id"), payer.id);
  EXPECT_EQ(Str(created.body, "to_user_id"), requester.id);
  const std::string id = Str(created.body, "id");
  EXPECT_EQ(Get("/v1/payment-requests/" + id, payer).status, 200);
  EXPECT_EQ(Get("/v1/payment-requests/" + id, stranger).status, 404);

  EXPECT_EQ(Post("/v1/payment-requests/" + id + "/pay", stranger).status, 404);
  EXPECT_EQ(Post("/v1/payment-requests/" + id + "/pay", requester).status, 403);
  EXPECT_EQ(Post("/v1/payment-requests/" + id + "/decline", requester).status, 403);
  EXPECT_EQ(Post("/v1/payment-requests/" + id + "/cancel", payer).status, 403);
  ApiResponse paid = Post("/v1/payment-requests/" + id + "/pay", payer);
  ASSERT_EQ(paid.status, 200) << paid.raw;
  EXPECT_EQ(Str(paid.body, "status"), "paid");
  const std::string transfer_id = Str(paid.body, "transfer_id");
  EXPECT_EQ(Str(paid.body.at("transfer"), "id"), transfer_id);
  EXPECT_EQ(Str(paid.body.at("transfer"), "conversation_id"), conversation);
  EXPECT_EQ(Str(paid.body.at("transfer"), "kind"), "request_payment");
  EXPECT_EQ(Balance(payer), 5'800);
  EXPECT_EQ(Balance(requester), 4'200);
  ApiResponse again = Post("/v1/payment-requests/" + id + "/pay", payer);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(Str(again.body, "transfer_id"), transfer_id);
  EXPECT_EQ(Balance(payer), 5'800);
  EXPECT_EQ(Post("/v1/payment-requests/" + id + "/decline", payer).status, 409);
  EXPECT_EQ(Post("/v1/payment-requests/" + id + "/cancel", requester).status, 409);
  EXPECT_EQ(Get("/v1/transfers/" + transfer_id, requester).status, 200);

  // Declined and cancelled requests cannot be paid.
  ApiResponse r2 = Post("/v1/payment-requests", requester, json::serialize(body));
  const std::string id2 = Str(r2.body, "id");
  ApiResponse declined = Post("/v1/payment-requests/" + id2 + "/decline", payer);
  ASSERT_EQ(declined.status, 200);
  EXPECT_EQ(Str(declined.body, "status"), "declined");
  EXPECT_EQ(Post("/v1/payment-requests/" + id2 + "/decline", payer).status, 200);
  EXPECT_EQ(Post("/v1/payment-requests/" + id2 + "/pay", payer).status, 409);
  ApiResponse r3 = Post("/v1/payment-requests", requester, json::serialize(body));
  const std::string id3 = Str(r3.body, "id");
  ApiResponse cancelled = Post("/v1/payment-requests/" + id3 + "/cancel", requester);
  EXPECT_EQ(Str(cancelled.body, "status"), "cancelled");
  EXPECT_EQ(Post("/v1/payment-requests/" + id3 + "/pay", payer).status, 409);
  EXPECT_EQ(Balance(payer), 5'800);

  // Not enough money: refused, still pending.
  body["amount"] = 9'000;
  ApiResponse r4 = Post("/v1/payment-requests", requester, json::serialize(body));
  const std::string id4 = Str(r4.body, "id");
  ApiResponse poor = Post("/v1/payment-requests/" + id4 + "/pay", payer);
  EXPECT_EQ(poor.error_code(), "insufficient_funds");
  EXPECT_EQ(Str(Get("/v1/payment-requests/" + id4, payer).body, "status"), "pending");

  // Validation.
  EXPECT_EQ(Post("/v1/payment-requests", requester,
                 json::serialize(json::object{
                     {"from_user_id", requester.id}, {"amount", 1}, {"currency", "THB"}}))
                .status,
            400);
  EXPECT_EQ(Post("/v1/payment-requests", requester,
                 json::serialize(
                     json::object{{"from_user_id", payer.id}, {"amount", 0}, {"currency", "THB"}}))
                .status,
            400);
  EXPECT_EQ(Post("/v1/payment-requests/" + NewUuidV7() + "/pay", payer).status, 404);
}

// ---- withdrawals ----

TEST_F(PaymentApiTest, WithdrawalHoldsAndReleasesExactlyOnce) {
  User u = NewUser();
  Fund(u, 10'000, "MYR");
  auto withdraw = [&](std::int64_t amount, std::string key = {}) {
    std::vector<std::pair<std::string, std::string>> h;
    if (!key.empty()) h.emplace_back("Idempotency-Key", key);
    return Post("/v1/withdrawals", u,
                json::serialize(json::object{
                    {"amount", amount}, {"currency", "MYR"}, {"destination", "maybank:1234"}}),
                h);
  };
  ApiResponse w = withdraw(3'000);
  ASSERT_EQ(w.status, 201) << w.raw;
  EXPECT_EQ(Str(w.body, "status"), "pending");
  EXPECT_EQ(Balance(u, "MYR"), 7'000);  // held
  const std::string ref = Str(w.body, "provider_reference");
  const std::string failed =
      WebhookBody("evt_" + NewUuidV7(), "withdrawal.failed", ref, 3'000, "MYR");
  ASSERT_EQ(Webhook(failed).status, 200);
  EXPECT_EQ(Balance(u, "MYR"), 10'000);  // released
  EXPECT_EQ(Webhook(failed).body.at("status").as_string(), "duplicate");
  EXPECT_EQ(Webhook(WebhookBody("evt_" + NewUuidV7(), "withdrawal.failed", ref, 3'000, "MYR"))
                .body.at("status")
                .as_string(),
            "ignored");
  EXPECT_EQ(Balance(u, "MYR"), 10'000);  // released once only

  ApiResponse w2 = withdraw(4'000);
  ASSERT_EQ(w2.status, 201);
  const std::string ref2 = Str(w2.body, "provider_reference");
  ASSERT_EQ(
      Webhook(WebhookBody("evt_" + NewUuidV7(), "withdrawal.succeeded", ref2, 4'000, "MYR")).status,
      200);
  EXPECT_EQ(Webhook(WebhookBody("evt_" + NewUuidV7(), "withdrawal.failed", ref2, 4'000, "MYR"))
                .body.at("status")
                .as_string(),
            "ignored");
  EXPECT_EQ(Balance(u, "MYR"), 6'000);
  EXPECT_EQ(Str(Get("/v1/withdrawals/" + Str(w2.body, "id"), u).body, "status"), "succeeded");
  EXPECT_EQ(Get("/v1/withdrawals/" + Str(w2.body, "id"), NewUser()).status, 404);

  ApiResponse poor = withdraw(6'001);
  EXPECT_EQ(poor.status, 422);
  EXPECT_EQ(poor.error_code(), "insufficient_funds");
  // With an Idempotency-Key a retried withdrawal holds once.
  const std::string key = NewKey();
  ApiResponse k1 = withdraw(1'000, key);
  ApiResponse k2 = withdraw(1'000, key);
  ASSERT_EQ(k1.status, 201);
  ASSERT_EQ(k2.status, 201);
  EXPECT_EQ(Str(k1.body, "id"), Str(k2.body, "id"));
  EXPECT_EQ(Balance(u, "MYR"), 5'000);
  EXPECT_EQ(withdraw(1'001, key).error_code(), "idempotency_key_reused");
  EXPECT_EQ(Post("/v1/withdrawals", u, R"({"amount":1,"currency":"MYR","destination":""})").status,
            400);
}

// ---- authorisation ----

TEST_F(PaymentApiTest, NobodyMovesAnotherUsersMoney) {
  User victim = NewUser();
  User thief = NewUser();
  Fund(victim, 50'000);
  // The payer is always the token's subject: a from_user_id in the body is ignored.
  User accomplice = NewUser();
  ApiResponse r =
      Transfer(thief, accomplice.id, 10'000, "THB", {}, json::object{{"from_user_id", victim.id}});
  EXPECT_EQ(r.error_code(), "insufficient_funds");
  // A payment request the victim did not pay cannot be paid by the requester.
  ApiResponse req =
      Post("/v1/payment-requests", thief,
           json::serialize(
               json::object{{"from_user_id", victim.id}, {"amount", 10'000}, {"currency", "THB"}}));
  ASSERT_EQ(req.status, 201);
  EXPECT_EQ(Post("/v1/payment-requests/" + Str(req.body, "id") + "/pay", thief).status, 403);
  // Another user's history and wallets are not reachable: only one's own.
  EXPECT_TRUE(Get("/v1/transactions", thief).body.at("transactions").as_array().empty());
  EXPECT_EQ(Balance(thief), 0);
  EXPECT_EQ(Balance(accomplice), 0);
  EXPECT_EQ(Balance(victim), 50'000);
  // A token whose subject is not a user id is refused.
  EXPECT_EQ(Call("GET", "/v1/wallets", tchat::e2e::MintToken("admin")).status, 401);
}

// ---- history ----

TEST_F(PaymentApiTest, HistoryPaginatesWithCursor) {
  User a = NewUser();
  User b = NewUser();
  Fund(a, 10'000);
  Fund(a, 500, "PHP");
  for (int i = 1; i <= 5; ++i) ASSERT_EQ(Transfer(a, b.id, i * 10).status, 201);
  std::vector<std::string> ids;
  std::string cursor;
  int pages = 0;
  for (;;) {
    std::string path = "/v1/transactions?currency=THB&limit=2";
    if (!cursor.empty()) path += "&cursor=" + cursor;
    ApiResponse page = Get(path, a);
    ASSERT_EQ(page.status, 200) << page.raw;
    ++pages;
    for (const auto& l : page.body.at("transactions").as_array()) ids.push_back(Str(l, "id"));
    if (page.body.at("next_cursor").is_null()) break;
    cursor = Str(page.body, "next_cursor");
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(ids.size(), 6u);  // top-up + 5 transfers
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 6u);
  EXPECT_EQ(pages, 3);
  // Newest first, with the running balance.
  ApiResponse first = Get("/v1/transactions?limit=1&currency=THB", a);
  const auto& line = first.body.at("transactions").as_array()[0];
  EXPECT_EQ(line.at("amount").as_int64(), -50);
  EXPECT_EQ(line.at("balance_after").as_int64(), 10'000 - 150);
  // All currencies together.
  EXPECT_EQ(Get("/v1/transactions", a).body.at("transactions").as_array().size(), 7u);
  EXPECT_EQ(Get("/v1/transactions?currency=PHP", a).body.at("transactions").as_array().size(), 1u);
  EXPECT_EQ(Get("/v1/transactions?limit=0", a).status, 400);
  EXPECT_EQ(Get("/v1/transactions?limit=201", a).status, 400);
  EXPECT_EQ(Get("/v1/transactions?cursor=abc", a).status, 400);
  EXPECT_EQ(Get("/v1/transactions?currency=EUR", a).status, 400);
}

// ---- administration and metrics ----

TEST_F(PaymentApiTest, LedgerVerificationNeedsTheAdminCredential) {
  EXPECT_EQ(Call("GET", "/v1/admin/ledger/verify", "").status, 401);
  EXPECT_EQ(Call("GET", "/v1/admin/ledger/verify", env_.admin_token + "x").status, 401);
  EXPECT_EQ(Call("GET", "/v1/admin/ledger/verify", NewUser().token).status, 401);
  ApiResponse v = Verify();
  ASSERT_EQ(v.status, 200) << v.raw;
  EXPECT_TRUE(v.body.at("ok").as_bool()) << v.raw;
  EXPECT_GE(v.body.at("checks").as_array().size(), 8u);
  EXPECT_TRUE(v.body.at("currencies").as_object().contains("THB"));
  const auto problems = IndependentLedgerCheck(env_.database_url);
  EXPECT_TRUE(problems.empty()) << problems.front();
}

TEST_F(PaymentApiTest, MetricsExposeThePaymentSeries) {
  User a = NewUser();
  User b = NewUser();
  Fund(a, 1'000);
  const std::string key = NewKey();
  ASSERT_EQ(Transfer(a, b.id, 100, "THB", key).status, 201);
  ASSERT_EQ(Transfer(a, b.id, 100, "THB", key).status, 201);
  ApiResponse m = Call("GET", "/metrics", "");
  ASSERT_EQ(m.status, 200);
  for (const char* series :
       {"payment_transfers_total{kind=\"transfer\",result=\"completed\"}",
        "payment_transfer_amount_minor_total{currency=\"THB\"}", "payment_idempotent_replays_total",
        "payment_transfer_batch_size_bucket", "http_requests_total"}) {
    EXPECT_NE(m.raw.find(series), std::string::npos) << series;
  }
}

}  // namespace
}  // namespace tchat::payment::e2e
