#include "records.hpp"

#include <optional>
#include <type_traits>
#include <utility>

#include <tchat/core/time.hpp>

namespace tchat::payment {
namespace {

json::value Opt(const std::optional<std::string>& v) {
  return v ? json::value(json::string(*v)) : json::value(nullptr);
}

// Reads the fields of a record's JSON, remembering the first failure: the
// FromJson functions read every field and then ask whether all were there.
class FieldReader {
 public:
  explicit FieldReader(std::string_view text) : parsed_(ParseJsonObject(text)) {
    if (!parsed_) error_ = parsed_.error();
  }
  std::string Text(std::string_view field) { return Take(RequireString(Obj(), field), {}); }
  std::optional<std::string> OptionalText(std::string_view field) {
    return Take(OptionalString(Obj(), field), {});
  }
  std::int64_t Integer(std::string_view field) { return Take(RequireInt(Obj(), field), 0); }
  std::int64_t Time(std::string_view field) {
    const std::string text = Text(field);
    auto t = ParseRfc3339(text);
    if (!t && !error_) error_ = Error::InvalidArgument(std::string(field) + " is not a time");
    return t ? UnixMillis(*t) : 0;
  }
  // The record, or an internal error naming what was wrong with the text.
  template <class Record>
  Result<Record> Finish(Record r) {
    if (error_) return Error::Internal("stored record is unreadable: " + error_->message);
    return r;
  }

 private:
  const json::object& Obj() const { return parsed_ ? *parsed_ : empty_; }
  template <class T>
  T Take(Result<T> r, std::type_identity_t<T> fallback) {
    if (r) return std::move(*r);
    if (!error_) error_ = r.error();
    return fallback;
  }

  Result<json::object> parsed_;
  json::object empty_;
  std::optional<Error> error_;
};

Result<ProviderOperation> OperationFromJson(std::string_view text, std::string_view detail) {
  FieldReader f(text);
  ProviderOperation op;
  op.id = f.Text("id");
  op.user_id = f.Text("user_id");
  op.amount = f.Integer("amount");
  op.currency = f.Text("currency");
  op.method_or_destination = f.Text(detail);
  op.status = f.Text("status");
  op.provider_reference = f.Text("provider_reference");
  op.created_ms = f.Time("created_at");
  op.updated_ms = f.Time("updated_at");
  return f.Finish(std::move(op));
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

json::object ToJson(const PaidRequest& p) {
  json::object o = ToJson(p.request);
  o["transfer"] = ToJson(p.transfer);
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

Result<Transfer> TransferFromJson(std::string_view text) {
  FieldReader f(text);
  Transfer t;
  t.id = f.Text("id");
  t.kind = f.Text("kind");
  t.from_user_id = f.Text("from_user_id");
  t.to_user_id = f.Text("to_user_id");
  t.amount = f.Integer("amount");
  t.currency = f.Text("currency");
  t.note = f.OptionalText("note");
  t.conversation_id = f.OptionalText("conversation_id");
  t.status = f.Text("status");
  t.refund_of = f.OptionalText("refund_of");
  t.refunded_by = f.OptionalText("refunded_by");
  t.payment_request_id = f.OptionalText("payment_request_id");
  t.created_ms = f.Time("created_at");
  return f.Finish(std::move(t));
}

Result<PaymentRequest> PaymentRequestFromJson(std::string_view text) {
  FieldReader f(text);
  PaymentRequest r;
  r.id = f.Text("id");
  r.from_user_id = f.Text("from_user_id");
  r.to_user_id = f.Text("to_user_id");
  r.amount = f.Integer("amount");
  r.currency = f.Text("currency");
  r.note = f.OptionalText("note");
  r.conversation_id = f.OptionalText("conversation_id");
  r.status = f.Text("status");
  r.transfer_id = f.OptionalText("transfer_id");
  r.created_ms = f.Time("created_at");
  r.updated_ms = f.Time("updated_at");
  return f.Finish(std::move(r));
}

Result<ProviderOperation> TopupFromJson(std::string_view text) {
  return OperationFromJson(text, "method");
}

Result<ProviderOperation> WithdrawalFromJson(std::string_view text) {
  return OperationFromJson(text, "destination");
}

}  // namespace tchat::payment
