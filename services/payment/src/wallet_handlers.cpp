// HTTP handlers of the wallets: balances, and closing them before an account
// deletion (docs/operations/account-deletion.md). Parse → one PaymentService call → map.
#include <tchat/core/http/types.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/time.hpp>
#include <tchat/core/worker.hpp>

#include "handlers.hpp"
#include "service.hpp"

namespace tchat::payment {

namespace {

using http::Request;
using http::Response;

Task<Response> ListWallets(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  auto wallets = co_await req.worker->Get<PaymentService>().Wallets(*user);
  if (!wallets) co_return Response::FromError(wallets.error());
  json::array arr;
  for (const Wallet& w : *wallets) {
    json::object o;
    o["currency"] = w.currency;
    o["balance"] = w.balance;
    o["updated_at"] = FormatRfc3339Ms(w.updated_ms);
    arr.push_back(std::move(o));
  }
  json::object body;
  body["wallets"] = std::move(arr);
  co_return Response::Json(200, body);
}

// POST /v1/wallets/close: no body. 204 when closed (or already closed).
Task<Response> CloseWallets(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Response::FromError(user.error());
  Status st = co_await req.worker->Get<PaymentService>().CloseWallets(*user);
  if (!st) co_return Response::FromError(st.error());
  co_return Response::NoContent();
}

}  // namespace

void RegisterWalletRoutes(http::Router& router) {
  router.Get("/v1/wallets", ListWallets);
  router.Post("/v1/wallets/close", CloseWallets);
}

}  // namespace tchat::payment
