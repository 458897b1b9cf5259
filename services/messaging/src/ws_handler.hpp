#pragma once

#include <cstdint>

#include <tchat/core/http/types.hpp>
#include <tchat/core/task.hpp>

namespace tchat::http {
class WebSocket;
}

namespace tchat::messaging {

// GET /v1/ws (docs/api/openapi.yaml, messaging). After the upgrade the user's channels are
// subscribed and the server sends {"type":"ready","session_id"}; a client that then calls GET
// /v1/sync has no gap between what sync returns and what arrives live. Client frames: ping → pong,
// typing, message.send → ack | error, read
// {"conversation_id","seq"}, auth {"access_token"} → auth.ok | error (renews the
// socket's credentials; see SessionGuard for when a socket is closed with 4001). A frame that is
// not JSON, has an unknown type or fails validation is answered with an error event and the
// connection stays open. Binary frames too; frames over 64 KiB and invalid UTF-8 end the connection
// (1009 / 1007, by the WebSocket layer).
// A user who opens sockets faster than messaging_rate_ws_connects_per_minute gets
// an error frame (rate_limited, retry_after) and this close code.
inline constexpr std::uint16_t kCloseRateLimited = 4029;

Task<void> HandleWebSocket(http::Request& req, http::WebSocket& ws);

}  // namespace tchat::messaging
