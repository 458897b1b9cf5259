#pragma once

#include <tchat/core/result.hpp>

namespace tchat {
class App;
}

namespace tchat::messaging {

// Wires the messaging service onto `app`: reads Config, creates one
// MessagingWorker per worker (store, hub, presence, send batcher, and an outbox
// relay each when messaging_outbox_relay is on), registers the routes, and
// starts the per-worker loops (hub, presence heartbeat, relay) plus worker 0's
// payment-event consumer. Errors name the bad configuration key.
Status Setup(App& app);

}  // namespace tchat::messaging
