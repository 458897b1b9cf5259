#include "webhook_signature.hpp"

#include <charconv>
#include <string>
#include <vector>

#include <tchat/core/hashing.hpp>

namespace tchat::payment {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

}  // namespace

std::string_view VerdictName(SignatureVerdict v) {
  switch (v) {
    case SignatureVerdict::kValid:
      return "valid";
    case SignatureVerdict::kMissing:
      return "missing_signature";
    case SignatureVerdict::kMalformed:
      return "malformed_signature";
    case SignatureVerdict::kStale:
      return "stale_timestamp";
    case SignatureVerdict::kMismatch:
      return "bad_signature";
  }
  return "unknown";
}

std::string ComputeWebhookSignature(std::string_view secret, std::int64_t unix_seconds,
                                    std::string_view body) {
  std::string payload = std::to_string(unix_seconds);
  payload.push_back('.');
  payload.append(body);
  return HmacSha256Hex(secret, payload);
}

SignatureVerdict VerifyWebhookSignature(std::string_view secret, std::string_view header,
                                        std::string_view body, std::int64_t now_seconds,
                                        std::chrono::seconds tolerance) {
  header = Trim(header);
  if (header.empty()) return SignatureVerdict::kMissing;
  std::string_view t_text;
  std::vector<std::string_view> v1;
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view item = Trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) return SignatureVerdict::kMalformed;
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (key == "t") {
      if (!t_text.empty()) return SignatureVerdict::kMalformed;
      t_text = value;
    } else if (key == "v1") {
      if (!IsHex64(value)) return SignatureVerdict::kMalformed;
      v1.push_back(value);
    }
    // Other schemes (v0, future versions) are ignored, as providers do.
  }
  std::int64_t t = 0;
  const auto [ptr, ec] = std::from_chars(t_text.data(), t_text.data() + t_text.size(), t);
  if (t_text.empty() || ec != std::errc() || ptr != t_text.data() + t_text.size() || t < 0 ||
      v1.empty()) {
    return SignatureVerdict::kMalformed;
  }
  const std::int64_t skew = now_seconds >= t ? now_seconds - t : t - now_seconds;
  if (skew > tolerance.count()) return SignatureVerdict::kStale;
  const std::string expected = ComputeWebhookSignature(secret, t, body);
  bool match = false;
  for (std::string_view candidate : v1) {
    std::string lower(candidate);
    for (char& c : lower) {
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    }
    // Every candidate is compared (no early exit) so timing reveals nothing.
    match = ConstantTimeEquals(lower, expected) || match;
  }
  return match ? SignatureVerdict::kValid : SignatureVerdict::kMismatch;
}

}  // namespace tchat::payment
