#include "payment_consumer.hpp"

#include <tchat/core/async.hpp>
#include <tchat/core/events/outbox.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/uuid.hpp>

#include "group_reader.hpp"
#include "metrics.hpp"
#include "send_batcher.hpp"

namespace tchat::messaging {

namespace asio = boost::asio;

PaymentConsumer::PaymentConsumer(redis::RedisClient& redis, SendBatcher& batcher,
                                 std::string consumer_name, std::function<bool()> stopping)
    : redis_(redis),
      batcher_(batcher),
      consumer_(std::move(consumer_name)),
      stopping_(stopping),
      reader_(redis, "payment consumer", std::move(stopping)) {}

std::optional<AppendRequest> PaymentConsumer::MessageFor(std::string_view type,
                                                         const json::object& data) {
  auto conversation = CanonicalUuid(StringValue(data, "conversation_id"));
  if (!conversation) return std::nullopt;
  const std::string id(StringValue(data, "id"));
  if (id.empty() || id.size() > 64) return std::nullopt;
  std::string sender;
  json::object payment;
  std::string key;
  if (type == "payment.transfer.completed") {
    // A transfer that pays a request shows up as the request's "paid" message.
    const json::value* pr = data.if_contains("payment_request_id");
    if (pr != nullptr && !pr->is_null()) return std::nullopt;
    sender = StringValue(data, "from_user_id");
    const std::string kind(StringValue(data, "kind"));
    payment["kind"] = kind == "refund" ? "refund" : "transfer";
    payment["transfer_id"] = id;
    payment["status"] =
        StringValue(data, "status").empty() ? "completed" : StringValue(data, "status");
    key = "payment:transfer:" + id;
  } else if (type.starts_with("payment.request.")) {
    const std::string status(type.substr(std::string_view("payment.request.").size()));
    if (status != "created" && status != "paid" && status != "declined" && status != "cancelled") {
      return std::nullopt;
    }
    // from_user_id is asked to pay; to_user_id asked for the money.
    sender = (status == "created" || status == "cancelled") ? StringValue(data, "to_user_id")
                                                            : StringValue(data, "from_user_id");
    payment["kind"] = "request";
    payment["request_id"] = id;
    payment["status"] = status == "created" ? "pending" : status;
    if (const json::value* t = data.if_contains("transfer_id"); t != nullptr && t->is_string()) {
      payment["transfer_id"] = *t;
    }
    key = "payment:request:" + id + ":" + status;
  } else {
    return std::nullopt;
  }
  auto sender_id = CanonicalUuid(sender);
  if (!sender_id) return std::nullopt;
  for (std::string_view f : {"from_user_id", "to_user_id", "currency", "note"}) {
    if (const json::value* v = data.if_contains(f); v != nullptr) payment[f] = *v;
  }
  if (const json::value* a = data.if_contains("amount"); a != nullptr && a->is_number()) {
    payment["amount"] = *a;
  }
  AppendRequest r;
  r.id = NewUuidV7();
  r.event_id = NewUuidV7();
  r.conversation_id = std::move(*conversation);
  r.sender_id = std::move(*sender_id);
  r.type = "payment";
  const std::string note(StringValue(data, "note"));
  r.body = note.size() <= 4096 ? note : std::string();
  r.client_msg_id = std::move(key);
  r.payment = std::move(payment);
  return r;
}

Task<bool> PaymentConsumer::Handle(const std::string* envelope_text) {
  if (envelope_text == nullptr) co_return true;  // deleted entry: nothing to do
  auto envelope = ParseJsonObject(*envelope_text);
  if (!envelope) {
    log::Warn("payment event is not JSON; skipped");
    co_return true;
  }
  const std::string type(StringValue(*envelope, "type"));
  const json::value* data = envelope->if_contains("data");
  if (data == nullptr || !data->is_object()) co_return true;
  auto request = MessageFor(type, data->get_object());
  if (!request) co_return true;
  const std::string conversation = request->conversation_id;
  auto outcome = co_await batcher_.Send(std::move(*request), {});
  if (!outcome) {
    // Database trouble: leave the entry pending and try again later.
    log::Warn("payment message not posted", {{"type", type}, {"error", outcome.error().message}});
    co_return false;
  }
  if (outcome->status == AppendStatus::kOk) {
    Metrics::Get().payment_events->Inc();
  } else if (outcome->status != AppendStatus::kDuplicate) {
    log::Warn("payment event names a conversation the sender is not in; skipped",
              {{"type", type}, {"conversation_id", conversation}});
  }
  co_return true;
}

void PaymentConsumer::Stop() {
  reader_.Close();
}

Task<void> PaymentConsumer::Run() {
  return RunGroupReader(redis_, reader_, std::string(events::kPaymentStream), consumer_, stopping_,
                        [this](const std::string* event) { return Handle(event); });
}

}  // namespace tchat::messaging
