#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tchat::client {

// The Tchat-Signature header a payment provider sends with the webhook `body` at
// `unix_seconds`: "t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>" (docs/api/openapi.yaml,
// payment webhooks). Computed with OpenSSL, independently of the service's own code, so
// that tests and the load generator check the service rather than mirror it.
std::string SignWebhook(std::string_view secret, std::int64_t unix_seconds, std::string_view body);

// Seconds since the Unix epoch, now.
std::int64_t UnixNow();

}  // namespace tchat::client
