#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tchat/core/json.hpp>

namespace tchat::payment {

// The client-visible records of the payment service and their JSON (docs/api/openapi.yaml,
// payment). Plain values; ids are canonical lower-case UUID strings, times are Unix milliseconds
// rendered as RFC 3339 UTC with milliseconds.

struct Transfer {
  std::string id;
  std::string kind;  // transfer | refund | request_payment
  std::string from_user_id;
  std::string to_user_id;
  std::int64_t amount = 0;
  std::string currency;
  std::optional<std::string> note;
  std::optional<std::string> conversation_id;
  std::string status;  // completed | refunded
  std::optional<std::string> refund_of;
  std::optional<std::string> refunded_by;
  std::optional<std::string> payment_request_id;
  std::int64_t created_ms = 0;
};

struct PaymentRequest {
  std::string id;
  std::string from_user_id;  // who is asked to pay
  std::string to_user_id;    // who asked, and is paid
  std::int64_t amount = 0;
  std::string currency;
  std::optional<std::string> note;
  std::optional<std::string> conversation_id;
  std::string status;  // pending | paid | declined | cancelled
  std::optional<std::string> transfer_id;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
};

// A top-up or a withdrawal through the payment provider.
struct ProviderOperation {
  std::string id;
  std::string user_id;
  std::int64_t amount = 0;
  std::string currency;
  std::string method_or_destination;  // top-up method / withdrawal destination
  std::string status;                 // pending | succeeded | failed
  std::string provider_reference;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
};

json::object ToJson(const Transfer& t);
json::object ToJson(const PaymentRequest& r);
json::object TopupJson(const ProviderOperation& op);
json::object WithdrawalJson(const ProviderOperation& op);

}  // namespace tchat::payment
