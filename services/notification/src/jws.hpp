#pragma once

#include <string>
#include <string_view>

#include <tchat/core/json.hpp>
#include <tchat/core/result.hpp>

// Compact JWS signing with OpenSSL for the push providers' own credentials:
// RS256 (Google service accounts → OAuth 2.0 for FCM) and ES256 (APNs provider
// tokens). Thread-safe (keys are parsed per call; callers cache the results).
namespace tchat::notification {

enum class JwsAlg { kRs256, kEs256 };

// base64url(header).base64url(claims).base64url(signature). `private_key_pem` is
// a PKCS#8 or traditional PEM key of the matching type. For ES256 the signature
// is the 64-byte r||s form JWS requires (not DER).
Result<std::string> SignJws(JwsAlg alg, const json::object& header, const json::object& claims,
                            std::string_view private_key_pem);

}  // namespace tchat::notification
