#include "records.hpp"

#include <tchat/core/time.hpp>

namespace tchat::payment {
namespace {

json::value Opt(const std::optional<std::string>& v) {
  return v ? json::value(json::string(*v)) : json::value(nullptr);
}

}  // namespace

json::object ToJson(const Transfer& t) {
  json::object o;
  o["id"] = t.id;
  o["kind"] = t.kind;
  o["from_user_id"] = t.from_user_id;
  o["to_user_id"] = t.to_user_id;
  o["amount"] = t.amount;
  o["currency"] = t.currency;
  o["note"] = Opt(t.note);
  o["conversation_id"] = Opt(t.conversation_id);
  o["status"] = t.status;
  o["refund_of"] = Opt(t.refund_of);
  o["refunded_by"] = Opt(t.refunded_by);
  o["payment_request_id"] = Opt(t.payment_request_id);
  o["created_at"] = FormatRfc3339Ms(t.created_ms);
  return o;
}

json::object ToJson(const PaymentRequest& r) {
  json::object o;
  o["id"] = r.id;
  o["from_user_id"] = r.from_user_id;
  o["to_user_id"] = r.to_user_id;
  o["amount"] = r.amount;
  o["currency"] = r.currency;
  o["note"] = Opt(r.note);
  o["conversation_id"] = Opt(r.conversation_id);
  o["status"] = r.status;
  o["transfer_id"] = Opt(r.transfer_id);
  o["created_at"] = FormatRfc3339Ms(r.created_ms);
  o["updated_at"] = FormatRfc3339Ms(r.updated_ms);
  return o;
}

json::object TopupJson(const ProviderOperation& op) {
  json::object o;
  o["id"] = op.id;
  o["user_id"] = op.user_id;
  o["amount"] = op.amount;
  o["currency"] = op.currency;
  o["method"] = op.method_or_destination;
  o["status"] = op.status;
  o["provider_reference"] = op.provider_reference;
  o["created_at"] = FormatRfc3339Ms(op.created_ms);
  o["updated_at"] = FormatRfc3339Ms(op.updated_ms);
  return o;
}

json::object WithdrawalJson(const ProviderOperation& op) {
  json::object o;
  o["id"] = op.id;
  o["user_id"] = op.user_id;
  o["amount"] = op.amount;
  o["currency"] = op.currency;
  o["destination"] = op.method_or_destination;
  o["status"] = op.status;
  o["provider_reference"] = op.provider_reference;
  o["created_at"] = FormatRfc3339Ms(op.created_ms);
  o["updated_at"] = FormatRfc3339Ms(op.updated_ms);
  return o;
}

}  // namespace tchat::payment
