#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tchat::payment {

// Why a provider webhook's Tchat-Signature was refused (the metric label).
enum class SignatureVerdict {
  kValid,
  kMissing,    // no header
  kMalformed,  // not "t=<unix seconds>,v1=<64 hex>[,v1=...]"
  kStale,      // timestamp further than the tolerance from now, either way
  kMismatch,   // no v1 matches HMAC-SHA256(secret, "<t>.<raw body>")
};
std::string_view VerdictName(SignatureVerdict v);

// The v1 signature of `body` sent at `unix_seconds`: hex HMAC-SHA256(secret,
// "<t>.<body>").
std::string ComputeWebhookSignature(std::string_view secret, std::int64_t unix_seconds,
                                    std::string_view body);

// Checks a Tchat-Signature header (docs/api/openapi.yaml, payment). Several v1 values are allowed
// (secret rotation); each is compared in constant time. `now_seconds` is injectable for tests.
SignatureVerdict VerifyWebhookSignature(std::string_view secret, std::string_view header,
                                        std::string_view body, std::int64_t now_seconds,
                                        std::chrono::seconds tolerance);

}  // namespace tchat::payment
