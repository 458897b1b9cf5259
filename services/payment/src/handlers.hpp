#pragma once

#include <tchat/core/http/router.hpp>

namespace tchat::payment {

// Registers the payment routes of docs/api/openapi.yaml, payment on `router`. Handlers parse and
// validate, make one call into the worker's PaymentService (Worker::Get) and map
// the result. The webhook and ledger-verification routes are public at the token
// level and do their own checks (HMAC signature; admin bearer credential).
void RegisterRoutes(http::Router& router);

// GET /v1/wallets and POST /v1/wallets/close (wallet_handlers.cpp); part of
// RegisterRoutes.
void RegisterWalletRoutes(http::Router& router);

}  // namespace tchat::payment
