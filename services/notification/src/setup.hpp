#pragma once

#include <tchat/core/result.hpp>
#include <tchat/core/service/app.hpp>

namespace tchat::notification {

// Composes the notification service on `app`: settings, routes, and per worker
// the HTTP client, providers, event processor, dispatcher and stream consumers,
// plus their background loops. Called by main() on the main thread.
Status Setup(App& app);

}  // namespace tchat::notification
