#pragma once

#include <string>

#include <tchat/core/http/router.hpp>

namespace tchat::notification {

// Registers the HTTP API of docs/api/openapi.yaml, notification on `router`:
//   POST /v1/devices, GET /v1/devices, DELETE /v1/devices/{id}
//   GET /v1/notifications, POST /v1/notifications/{id}/read,
//   POST /v1/notifications/read-all
//   GET|PUT /v1/notification-preferences
// and the admin API (bearer TCHAT_ADMIN_TOKEN):
//   GET /v1/admin/dead-letters, POST /v1/admin/dead-letters/{id}/redrive,
//   POST /v1/admin/dead-letters/redrive, GET /v1/admin/poison-events
// Handlers use the serving worker's pg::Pool. `admin_token` empty: admin API off.
void RegisterRoutes(http::Router& router, std::string admin_token);

}  // namespace tchat::notification
