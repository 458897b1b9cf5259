#pragma once

#include <tchat/core/result.hpp>

namespace tchat {
class App;
}

namespace tchat::payment {

// Wires the payment service onto `app`: reads Config, creates the
// per-worker LedgerStore, TransferBatcher, PaymentService and MoneyRateLimiter
// (over the worker's Redis client, when REDIS_URL is set), registers the
// routes, and starts the background loops on worker 0 (the outbox relay to
// tchat.events.payment when REDIS_URL is set, and the pruning of expired
// idempotency keys). Errors name the bad configuration key.
Status Setup(App& app);

}  // namespace tchat::payment
