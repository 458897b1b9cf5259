#include "handlers.hpp"

#include <charconv>
#include <chrono>
#include <optional>
#include <string>

#include <tchat/core/json.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/pg/read_pool.hpp>
#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>
#include <tchat/core/worker.hpp>

#include "hashing.hpp"
#include "metrics.hpp"
#include "money_rate_limiter.hpp"
#include "service.hpp"
#include "user_directory.hpp"
#include "webhook_signature.hpp"

namespace tchat::payment {
namespace {

using http::Request;
using http::Response;

constexpr std::size_t kMaxNoteBytes = 500;
constexpr std::size_t kMaxKeyBytes = 255;
constexpr std::size_t kMaxTextBytes = 200;

PaymentService& Service(Request& req) {
  return req.worker->Get<PaymentService>();
}

// How a mutating route answers: the record's JSON with `status`, or for a
// replay (Idempotency-Key seen before, action already done) with
// `replay_status` and Idempotent-Replayed: true; domain errors as
// Response::FromError maps them.
struct Shown {
  int status;
  int replay_status;
};
constexpr Shown kCreated{201, 201};
constexpr Shown kOk{200, 200};
constexpr Shown kRefunded{201, 200};  // a second refund answers the first, 200

template <class Record, class Render>
Response Show(const Result<Done<Record>>& done, Shown shown, Render render) {
  if (!done) return Response::FromError(done.error());
  Response r =
      Response::Json(done->replayed ? shown.replay_status : shown.status, render(done->record));
  if (done->replayed) r.headers.emplace_back("Idempotent-Replayed", "true");
  return r;
}

template <class Record>
Response Show(const Result<Done<Record>>& done, Shown shown) {
  return Show(done, shown, [](const Record& r) { return ToJson(r); });
}

// A path id; anything that is not a UUID cannot exist.
Result<std::string> PathId(const Request& req, std::string_view what) {
  auto id = CanonicalUuid(req.PathParam("id"));
  if (!id) return Error::NotFound(std::string(what) + " not found");
  return *id;
}

Result<std::int64_t> PositiveAmount(const json::object& o) {
  auto amount = RequireInt(o, "amount");
  if (!amount) return std::move(amount).error();
  if (*amount <= 0) return Error::InvalidArgument("amount must be a positive integer");
  return *amount;
}

Result<const CurrencyInfo*> RequireCurrency(const json::object& o) {
  auto code = RequireString(o, "currency");
  if (!code) return std::move(code).error();
  const CurrencyInfo* c = FindCurrency(*code);
  if (c == nullptr) return Error::InvalidArgument("currency is not supported");
  return c;
}

Result<std::string> RequireUuid(const json::object& o, std::string_view field) {
  auto s = RequireString(o, field);
  if (!s) return std::move(s).error();
  auto id = CanonicalUuid(*s);
  if (!id) return Error::InvalidArgument(std::string(field) + " must be a UUID");
  return *id;
}

Result<std::optional<std::string>> OptionalUuid(const json::object& o, std::string_view field) {
  auto s = OptionalString(o, field);
  if (!s) return std::move(s).error();
  if (!*s) return std::optional<std::string>();
  auto id = CanonicalUuid(**s);
  if (!id) return Error::InvalidArgument(std::string(field) + " must be a UUID");
  return std::optional<std::string>(*id);
}

bool HasControl(std::string_view s, bool allow_newlines) {
  for (unsigned char c : s) {
    if (c == '\n' && allow_newlines) continue;
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

Result<std::optional<std::string>> OptionalNote(const json::object& o) {
  auto s = OptionalString(o, "note");
  if (!s) return std::move(s).error();
  if (*s && (*s)->size() > kMaxNoteBytes) {
    return Error::InvalidArgument("note is longer than 500 bytes");
  }
  if (*s && HasControl(**s, true)) return Error::InvalidArgument("note has control characters");
  return std::move(*s);
}

Result<std::string> RequireText(const json::object& o, std::string_view field) {
  auto s = RequireString(o, field);
  if (!s) return std::move(s).error();
  if (s->empty() || s->size() > kMaxTextBytes || HasControl(*s, false)) {
    return Error::InvalidArgument(std::string(field) + " must be 1 to 200 printable characters");
  }
  return std::move(*s);
}

// The Idempotency-Key header: 1 to 255 printable ASCII characters.
Result<std::optional<std::string>> IdempotencyKey(const Request& req, bool required) {
  const std::string_view key = req.Header("idempotency-key");
  if (key.empty()) {
    if (required) return Error::InvalidArgument("the Idempotency-Key header is required");
    return std::optional<std::string>();
  }
  if (key.size() > kMaxKeyBytes) return Error::InvalidArgument("Idempotency-Key is too long");
  for (unsigned char c : key) {
    if (c < 0x20 || c > 0x7E) return Error::InvalidArgument("Idempotency-Key must be ASCII");
  }
  return std::optional<std::string>(std::string(key));
}

// The other user of a transfer or payment request must exist: the auth service is
// asked with the caller's own credential (404 user_not_found, 503
// dependency_unavailable when auth cannot say; see UserDirectory). Nothing has
// changed when this fails. `id` must outlive the awaited task.
Task<Status> RequireCounterparty(Request& req, const std::string& id) {
  return req.worker->Get<UserDirectory>().RequireUser(id, req.Header("authorization"));
}

std::string OptPart(const std::optional<std::string>& v) {
  return v ? "1" + *v : "0";
}

// ---- transfers (the wallet routes: wallet_handlers.cpp) ----

Task<Response> CreateTransfer(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  auto key = IdempotencyKey(req, true);
  if (!key) co_return Response::FromError(key.error());
  auto body = ParseJsonObject(req.body);
  if (!body) co_return Response::FromError(body.error());
  TransferCommand cmd;
  cmd.from_user_id = *user;
  auto to = RequireUuid(*body, "to_user_id");
  if (!to) co_return Response::FromError(to.error());
  auto amount = PositiveAmount(*body);
  if (!amount) co_return Response::FromError(amount.error());
  auto currency = RequireCurrency(*body);
  if (!currency) co_return Response::FromError(currency.error());
  auto note = OptionalNote(*body);
  if (!note) co_return Response::FromError(note.error());
  auto conversation = OptionalUuid(*body, "conversation_id");
  if (!conversation) co_return Response::FromError(conversation.error());
  if (*to == *user) {
    Metrics::Get().Transfer("transfer", "invalid_argument");
    co_return Response::FromError(Error::InvalidArgument("cannot transfer to yourself"));
  }
  if (Status known = co_await RequireCounterparty(req, *to); !known) {
    Metrics::Get().Transfer("transfer", known.error().WireCode());
    co_return Response::FromError(known.error());
  }
  cmd.to_user_id = *to;
  cmd.amount = *amount;
  cmd.currency = *currency;
  cmd.note = std::move(*note);
  cmd.conversation_id = std::move(*conversation);
  const std::string amount_text = std::to_string(cmd.amount);
  const std::string note_part = OptPart(cmd.note);
  const std::string conversation_part = OptPart(cmd.conversation_id);
  cmd.idempotency.key = std::move(**key);
  cmd.idempotency.fingerprint = FingerprintHex({"POST /v1/transfers", cmd.to_user_id, amount_text,
                                                cmd.currency->code, note_part, conversation_part});
  auto done = co_await Service(req).CreateTransfer(cmd);
  co_return Show(done, kCreated);
}

Task<Response> GetTransfer(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  auto id = PathId(req, "transfer");
  if (!id) co_return Response::FromError(id.error());
  auto t = co_await Service(req).GetTransfer(*user, *id);
  if (!t) co_return Response::FromError(t.error());
  co_return Response::Json(200, ToJson(*t));
}

Task<Response> RefundTransfer(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  auto id = PathId(req, "transfer");
  if (!id) co_return Response::FromError(id.error());
  auto done = co_await Service(req).Refund(*user, *id);
  co_return Show(done, kRefunded);
}

// ---- payment requests ----

Task<Response> CreatePaymentRequest(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  auto key = IdempotencyKey(req, false);
  if (!key) co_return Response::FromError(key.error());
  auto body = ParseJsonObject(req.body);
  if (!body) co_return Response::FromError(body.error());
  auto from = RequireUuid(*body, "from_user_id");
  if (!from) co_return Response::FromError(from.error());
  auto amount = PositiveAmount(*body);
  if (!amount) co_return Response::FromError(amount.error());
  auto currency = RequireCurrency(*body);
  if (!currency) co_return Response::FromError(currency.error());
  auto note = OptionalNote(*body);
  if (!note) co_return Response::FromError(note.error());
  auto conversation = OptionalUuid(*body, "conversation_id");
  if (!conversation) co_return Response::FromError(conversation.error());
  if (*from == *user) {
    co_return Response::FromError(Error::InvalidArgument("cannot request money from yourself"));
  }
  if (Status known = co_await RequireCounterparty(req, *from); !known) {
    co_return Response::FromError(known.error());
  }
  RequestCommand cmd;
  cmd.to_user_id = *user;
  cmd.from_user_id = *from;
  cmd.amount = *amount;
  cmd.currency = *currency;
  cmd.note = std::move(*note);
  cmd.conversation_id = std::move(*conversation);
  if (*key) {
    const std::string amount_text = std::to_string(cmd.amount);
    const std::string note_part = OptPart(cmd.note);
    const std::string conversation_part = OptPart(cmd.conversation_id);
    cmd.idempotency = IdempotencyRequest{
        std::move(**key),
        FingerprintHex({"POST /v1/payment-requests", cmd.from_user_id, amount_text,
                        cmd.currency->code, note_part, conversation_part})};
  }
  auto done = co_await Service(req).CreateRequest(cmd);
  co_return Show(done, kCreated);
}

Task<Response> GetPaymentRequest(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  auto id = PathId(req, "payment request");
  if (!id) co_return Response::FromError(id.error());
  auto r = co_await Service(req).GetRequest(*user, *id);
  if (!r) co_return Response::FromError(r.error());
  co_return Response::Json(200, ToJson(*r));
}

// The list's cursor: "<created_at in ms>_<id>" of the last request of a page.
std::optional<RequestKey> ParseRequestCursor(std::string_view text) {
  const auto sep = text.find('_');
  if (sep == std::string_view::npos) return std::nullopt;
  auto ms = ParseInt(text.substr(0, sep), 0, INT64_MAX / 2);
  auto id = CanonicalUuid(text.substr(sep + 1));
  if (!ms || !id) return std::nullopt;
  return RequestKey{*ms, *id};
}

Result<RequestDirection> ParseDirection(const std::optional<std::string>& d) {
  if (!d || d->empty()) return RequestDirection::kBoth;
  if (*d == "incoming") return RequestDirection::kIncoming;
  if (*d == "outgoing") return RequestDirection::kOutgoing;
  return Error::InvalidArgument("direction must be incoming or outgoing");
}

Task<Response> ListRequests(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  auto direction = ParseDirection(req.Query("direction"));
  if (!direction) co_return Response::FromError(direction.error());
  std::optional<std::string> status = req.Query("status");
  if (status && status->empty()) status.reset();
  if (status && *status != "pending" && *status != "paid" && *status != "declined" &&
      *status != "cancelled") {
    co_return Response::FromError(
        Error::InvalidArgument("status must be pending, paid, declined or cancelled"));
  }
  int limit = 50;
  if (auto l = req.Query("limit"); l && !l->empty()) {
    auto parsed = ParseInt(*l, 1, 200);
    if (!parsed) {
      co_return Response::FromError(Error::InvalidArgument("limit must be between 1 and 200"));
    }
    limit = static_cast<int>(*parsed);
  }
  std::optional<RequestKey> after;
  if (auto c = req.Query("cursor"); c && !c->empty()) {
    after = ParseRequestCursor(*c);
    if (!after) co_return Response::FromError(Error::InvalidArgument("cursor is not valid"));
  }
  auto page = co_await Service(req).ListRequests(*user, *direction, status, after, limit);
  if (!page) co_return Response::FromError(page.error());
  json::array arr;
  for (const PaymentRequest& r : page->requests) arr.push_back(ToJson(r));
  json::object body;
  body["payment_requests"] = std::move(arr);
  body["next_cursor"] =
      page->next ? json::value(std::to_string(page->next->created_ms) + "_" + page->next->id)
                 : json::value(nullptr);
  co_return Response::Json(200, body);
}

enum class RequestAction { kPay, kDecline, kCancel };

template <RequestAction action>
Task<Response> ActOnPaymentRequest(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  auto id = PathId(req, "payment request");
  if (!id) co_return Response::FromError(id.error());
  PaymentService& svc = Service(req);
  if constexpr (action == RequestAction::kPay) {
    auto done = co_await svc.PayRequest(*user, *id);
    co_return Show(done, kOk);
  } else if constexpr (action == RequestAction::kDecline) {
    auto done = co_await svc.DeclineRequest(*user, *id);
    co_return Show(done, kOk);
  } else {
    auto done = co_await svc.CancelRequest(*user, *id);
    co_return Show(done, kOk);
  }
}

// ---- top-ups, withdrawals, provider webhooks ----

template <bool topup>
Task<Response> CreateProviderOperation(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  auto key = IdempotencyKey(req, false);
  if (!key) co_return Response::FromError(key.error());
  auto body = ParseJsonObject(req.body);
  if (!body) co_return Response::FromError(body.error());
  auto amount = PositiveAmount(*body);
  if (!amount) co_return Response::FromError(amount.error());
  auto currency = RequireCurrency(*body);
  if (!currency) co_return Response::FromError(currency.error());
  auto detail = RequireText(*body, topup ? "method" : "destination");
  if (!detail) co_return Response::FromError(detail.error());
  if (topup && !IsRegionalMethod(**currency, *detail)) {
    co_return Response::FromError(
        Error::InvalidArgument("method is not a top-up method of the currency's region"));
  }
  ProviderCommand cmd;
  cmd.user_id = *user;
  cmd.amount = *amount;
  cmd.currency = *currency;
  cmd.method_or_destination = std::move(*detail);
  if (*key) {
    const std::string amount_text = std::to_string(cmd.amount);
    cmd.idempotency = IdempotencyRequest{
        std::move(**key),
        FingerprintHex({topup ? "POST /v1/topups" : "POST /v1/withdrawals", amount_text,
                        cmd.currency->code, cmd.method_or_destination})};
  }
  PaymentService& svc = Service(req);
  if constexpr (topup) {
    auto done = co_await svc.CreateTopup(cmd);
    co_return Show(done, kCreated, TopupJson);
  } else {
    auto done = co_await svc.CreateWithdrawal(cmd);
    co_return Show(done, kCreated, WithdrawalJson);
  }
}

template <bool topup>
Task<Response> GetProviderOperation(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  auto id = PathId(req, topup ? "top-up" : "withdrawal");
  if (!id) co_return Response::FromError(id.error());
  PaymentService& svc = Service(req);
  if constexpr (topup) {
    auto op = co_await svc.GetTopup(*user, *id);
    if (!op) co_return Response::FromError(op.error());
    co_return Response::Json(200, TopupJson(*op));
  } else {
    auto op = co_await svc.GetWithdrawal(*user, *id);
    if (!op) co_return Response::FromError(op.error());
    co_return Response::Json(200, WithdrawalJson(*op));
  }
}

Response RejectWebhook(std::string_view reason, Error e) {
  Metrics::Get().WebhookRejected(reason);
  log::Warn("provider webhook rejected", {{"reason", reason}});
  return Response::FromError(e);
}

Result<ProviderEvent> ParseProviderEvent(std::string_view raw) {
  auto body = ParseJsonObject(raw);
  if (!body) return std::move(body).error();
  ProviderEvent ev;
  auto id = RequireText(*body, "id");
  if (!id) return std::move(id).error();
  auto type = RequireString(*body, "type");
  if (!type) return std::move(type).error();
  if (*type != "topup.succeeded" && *type != "topup.failed" && *type != "withdrawal.succeeded" &&
      *type != "withdrawal.failed") {
    return Error::InvalidArgument("type is not a known provider event");
  }
  auto reference = RequireText(*body, "reference");
  if (!reference) return std::move(reference).error();
  auto amount = PositiveAmount(*body);
  if (!amount) return std::move(amount).error();
  auto currency = RequireCurrency(*body);
  if (!currency) return std::move(currency).error();
  ev.id = std::move(*id);
  ev.type = std::move(*type);
  ev.reference = std::move(*reference);
  ev.amount = *amount;
  ev.currency = *currency;
  return ev;
}

Task<Response> ProviderWebhook(Request& req) {
  const Config& config = Service(req).config();
  if (config.webhook_secret.empty()) {
    co_return RejectWebhook("not_configured",
                            Error::Unavailable("provider webhooks are not configured"));
  }
  const auto now = UnixSeconds(std::chrono::system_clock::now());
  const SignatureVerdict verdict =
      VerifyWebhookSignature(config.webhook_secret, req.Header("tchat-signature"), req.body, now,
                             config.webhook_tolerance);
  if (verdict != SignatureVerdict::kValid) {
    co_return RejectWebhook(VerdictName(verdict),
                            Error::Unauthenticated(verdict == SignatureVerdict::kStale
                                                       ? "webhook timestamp outside tolerance"
                                                       : "invalid webhook signature"));
  }
  auto ev = ParseProviderEvent(req.body);
  if (!ev) co_return RejectWebhook("invalid_body", ev.error());
  auto outcome = co_await Service(req).HandleProviderEvent(*ev);
  if (!outcome) {
    const Error& e = outcome.error();
    if (e.IsNotFound()) co_return RejectWebhook("unknown_reference", e);
    if (e.WireCode() == "amount_mismatch") co_return RejectWebhook("amount_mismatch", e);
    co_return Response::FromError(e);
  }
  Metrics::Get().WebhookEvent(ev->type, *outcome);
  json::object body;
  body["status"] = *outcome;
  co_return Response::Json(200, body);
}

// ---- history and administration ----

Task<Response> ListTransactions(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  std::optional<std::string> currency = req.Query("currency");
  if (currency && currency->empty()) currency.reset();
  if (currency && FindCurrency(*currency) == nullptr) {
    co_return Response::FromError(Error::InvalidArgument("currency is not supported"));
  }
  int limit = 50;
  if (auto l = req.Query("limit"); l && !l->empty()) {
    auto parsed = ParseInt(*l, 1, 200);
    if (!parsed) {
      co_return Response::FromError(Error::InvalidArgument("limit must be between 1 and 200"));
    }
    limit = static_cast<int>(*parsed);
  }
  std::optional<std::int64_t> cursor;
  if (auto c = req.Query("cursor"); c && !c->empty()) {
    auto parsed = ParseInt(*c, 1, INT64_MAX);
    if (!parsed) co_return Response::FromError(Error::InvalidArgument("cursor is not valid"));
    cursor = *parsed;
  }
  auto page = co_await Service(req).History(*user, currency, cursor, limit);
  if (!page) co_return Response::FromError(page.error());
  json::array arr;
  for (const HistoryLine& h : page->lines) {
    json::object o;
    o["id"] = h.entry_id;
    o["kind"] = h.kind;
    o["amount"] = h.amount;
    o["currency"] = h.currency;
    o["balance_after"] = h.balance_after;
    o["counterparty_user_id"] =
        h.counterparty_user_id ? json::value(*h.counterparty_user_id) : json::value(nullptr);
    o["reference_id"] = h.reference_id;
    o["created_at"] = FormatRfc3339Ms(h.created_ms);
    arr.push_back(std::move(o));
  }
  json::object body;
  body["transactions"] = std::move(arr);
  body["next_cursor"] =
      page->next_cursor ? json::value(std::to_string(*page->next_cursor)) : json::value(nullptr);
  co_return Response::Json(200, body);
}

Task<Response> VerifyLedger(Request& req) {
  const Config& config = Service(req).config();
  if (!http::BearerMatches(req, config.admin_token)) {
    co_return Response::FromError(Error::Unauthenticated("admin credential required"));
  }
  auto report = co_await Service(req).Verify();
  if (!report) co_return Response::FromError(report.error());
  if (!report->at("ok").as_bool()) log::Error("ledger verification failed", {});
  co_return Response::Json(200, *report);
}

// ---- the per-user limit on money routes ----

using HandlerFn = Task<Response> (*)(Request&);

// Counts the request against the caller's window first: a refused one is
// answered 429 before parsing or any database work, and changes nothing.
Task<Response> AdmitThen(std::string_view route, HandlerFn handler, Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  auto admitted = co_await req.worker->Get<MoneyRateLimiter>().Admit(*user, route);
  if (!admitted) co_return Response::FromError(admitted.error());
  Response r = co_await handler(req);
  // Read-after-write: the caller's own history comes from the primary for a while
  // (pg::ReplicaState::Pin); the balance never reads from a replica.
  if (auto* reads = req.worker->Find<pg::ReadPool>()) reads->state()->Pin(*user);
  co_return r;
}

// A POST route that moves or commits money. `route` is a string literal: it is
// also the label of payment_rate_limited_total, whose series starts at zero here.
void MoneyPost(http::Router& router, std::string_view route, HandlerFn handler) {
  Metrics::Get().RateLimited(route);
  router.Post(std::string(route),
              [route, handler](Request& req) { return AdmitThen(route, handler, req); });
}

}  // namespace

void RegisterRoutes(http::Router& router) {
  RegisterWalletRoutes(router);
  // Every route that moves or commits money counts against the caller's
  // MoneyRateLimiter; reads, decline and cancel do not.
  MoneyPost(router, "/v1/transfers", CreateTransfer);
  router.Get("/v1/transfers/{id}", GetTransfer);
  MoneyPost(router, "/v1/transfers/{id}/refund", RefundTransfer);
  MoneyPost(router, "/v1/payment-requests", CreatePaymentRequest);
  router.Get("/v1/payment-requests", ListRequests);
  router.Get("/v1/payment-requests/{id}", GetPaymentRequest);
  MoneyPost(router, "/v1/payment-requests/{id}/pay", ActOnPaymentRequest<RequestAction::kPay>);
  router.Post("/v1/payment-requests/{id}/decline", ActOnPaymentRequest<RequestAction::kDecline>);
  router.Post("/v1/payment-requests/{id}/cancel", ActOnPaymentRequest<RequestAction::kCancel>);
  MoneyPost(router, "/v1/topups", CreateProviderOperation<true>);
  router.Get("/v1/topups/{id}", GetProviderOperation<true>);
  MoneyPost(router, "/v1/withdrawals", CreateProviderOperation<false>);
  router.Get("/v1/withdrawals/{id}", GetProviderOperation<false>);
  router.Get("/v1/transactions", ListTransactions);
  router.Post("/v1/webhooks/psp", ProviderWebhook, http::RouteOptions{.authenticated = false});
  router.Get("/v1/admin/ledger/verify", VerifyLedger, http::RouteOptions{.authenticated = false});
}

}  // namespace tchat::payment
