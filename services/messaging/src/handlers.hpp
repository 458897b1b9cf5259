#pragma once

#include <tchat/core/http/router.hpp>

namespace tchat::messaging {

// Registers the docs/api/openapi.yaml, messaging HTTP routes (all authenticated) and GET /v1/ws.
// Handlers find their MessagingWorker on req.worker. Parse → validate → one service call →
// response; bad input is a 4xx, never a 500.
void RegisterRoutes(http::Router& router);

}  // namespace tchat::messaging
