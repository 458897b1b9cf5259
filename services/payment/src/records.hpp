#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tchat/core/json.hpp>
#include <tchat/core/result.hpp>

namespace tchat::payment {

// The client-visible records of the payment service and their JSON (docs/api/openapi.yaml,
// payment). Plain values; ids are canonical lower-case UUID strings, times are Unix milliseconds
// rendered as RFC 3339 UTC with milliseconds. A record's JSON is its canonical form: the body
// the handlers send, the data of its event and the snapshot an Idempotency-Key stores.

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

// A paid payment request with the transfer that paid it.
struct PaidRequest {
  PaymentRequest request;
  Transfer transfer;
};

json::object ToJson(const Transfer& t);
json::object ToJson(const PaymentRequest& r);
// The request's JSON with the transfer under "transfer".
json::object ToJson(const PaidRequest& p);
json::object TopupJson(const ProviderOperation& op);
json::object WithdrawalJson(const ProviderOperation& op);

// The records back from their canonical JSON text (an idempotency snapshot): the
// inverses of the functions above, so that rendering what they return gives the
// same bytes as the text. Internal error when the text is not such a record.
Result<Transfer> TransferFromJson(std::string_view text);
Result<PaymentRequest> PaymentRequestFromJson(std::string_view text);
Result<ProviderOperation> TopupFromJson(std::string_view text);
Result<ProviderOperation> WithdrawalFromJson(std::string_view text);

}  // namespace tchat::payment
