#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tchat {

// The error categories of docs/api/openapi.yaml. Each maps to one HTTP status in one place
// (http/error_response.cpp); domain-specific 422 codes ride in Error::detail_code.
enum class ErrorCode {
  kInvalidArgument,   // 400
  kUnauthenticated,   // 401
  kPermissionDenied,  // 403
  kNotFound,          // 404
  kMethodNotAllowed,  // 405
  kConflict,          // 409
  kPayloadTooLarge,   // 413
  kUnprocessable,     // 422 (domain codes such as insufficient_funds)
  kRateLimited,       // 429 (+ Retry-After)
  kInternal,          // 500
  kUnavailable,       // 503
  kDeadlineExceeded,  // 504 when it reaches a client; also used for timeouts inside
};

// The wire name of a code ("invalid_argument", ...).
std::string_view ErrorCodeName(ErrorCode code);
// The HTTP status a code maps to.
int ErrorCodeHttpStatus(ErrorCode code);

// A failure as a value: what went wrong, for whom it is meant, and where it came
// from. Cheap to move; copyable.
struct Error {
  Error() = default;
  Error(ErrorCode c, std::string msg, std::string detail = {})
      : code(c), message(std::move(msg)), detail_code(std::move(detail)) {}

  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Overrides the wire code for domain errors, e.g. "insufficient_funds" (422).
  std::string detail_code;
  // PostgreSQL SQLSTATE when the error came from the database ("40001", ...).
  std::string sqlstate;
  // For kRateLimited: seconds the client should wait.
  std::optional<std::chrono::seconds> retry_after;

  static Error InvalidArgument(std::string msg) {
    return {ErrorCode::kInvalidArgument, std::move(msg)};
  }
  static Error Unauthenticated(std::string msg) {
    return {ErrorCode::kUnauthenticated, std::move(msg)};
  }
  static Error PermissionDenied(std::string msg) {
    return {ErrorCode::kPermissionDenied, std::move(msg)};
  }
  static Error NotFound(std::string msg) { return {ErrorCode::kNotFound, std::move(msg)}; }
  static Error Conflict(std::string msg) { return {ErrorCode::kConflict, std::move(msg)}; }
  static Error PayloadTooLarge(std::string msg) {
    return {ErrorCode::kPayloadTooLarge, std::move(msg)};
  }
  static Error Unprocessable(std::string detail_code, std::string msg) {
    return {ErrorCode::kUnprocessable, std::move(msg), std::move(detail_code)};
  }
  static Error RateLimited(std::string msg, std::chrono::seconds retry_after) {
    Error e{ErrorCode::kRateLimited, std::move(msg)};
    e.retry_after = retry_after;
    return e;
  }
  static Error Internal(std::string msg) { return {ErrorCode::kInternal, std::move(msg)}; }
  static Error Unavailable(std::string msg) { return {ErrorCode::kUnavailable, std::move(msg)}; }
  static Error DeadlineExceeded(std::string msg) {
    return {ErrorCode::kDeadlineExceeded, std::move(msg)};
  }

  bool IsNotFound() const { return code == ErrorCode::kNotFound; }
  bool IsUnavailable() const { return code == ErrorCode::kUnavailable; }
  // PostgreSQL errors worth retrying the whole transaction for.
  bool IsSerializationFailure() const { return sqlstate == "40001"; }
  bool IsDeadlock() const { return sqlstate == "40P01"; }
  bool IsUniqueViolation() const { return sqlstate == "23505"; }

  // The code clients see: detail_code when set, else the category's name.
  std::string_view WireCode() const;
};

}  // namespace tchat
