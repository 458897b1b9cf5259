#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/json.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/time.hpp>

// The events this service consumes (docs/ARCHITECTURE.md, events) and how they arrive.
//
// Stream entry format (agreed for every producer): one field named "event"
// whose value is the envelope JSON {"id","type","occurred_at","data":{...}}.
// Streams: tchat.events.auth, tchat.events.messaging, tchat.events.payment.
namespace tchat::notification {

inline constexpr std::string_view kEventField = "event";

struct Envelope {
  std::string id;  // the producer's event id (UUID); the de-duplication key
  std::string type;
  SysTime occurred_at;
  json::object data;
};

// Parses and checks an envelope. Errors (kInvalidArgument) say what is wrong; the
// caller records such an entry as poison.
Result<Envelope> ParseEnvelope(std::string_view json_text);

// auth.otp.requested {phone, sealed_code, locale?, expires_in? | expires_at?, user_id?}
// sealed_code: the digits sealed to this service's key (TCHAT_NOTIFICATION_SEAL_KEY),
// base64; opened only when the SMS is rendered for the provider.
struct OtpRequested {
  std::string phone;  // E.164
  std::string sealed_code;
  std::string locale;                 // may be empty
  std::int64_t expires_in = 300;      // seconds after occurred_at
  std::optional<SysTime> expires_at;  // wins over expires_in when given
  std::string user_id;                // may be empty
  bool for_password = false;          // purpose "password" (else a sign-in code)
};
Result<OtpRequested> DecodeOtpRequested(const json::object& data);

// auth.password.changed {user_id, session_id?, change: "set" | "changed" | "removed" |
// "reset"}
// (tchat/core/events/auth_events.hpp): the user is told on their devices.
struct PasswordChanged {
  std::string user_id;
  std::string change;
};
Result<PasswordChanged> DecodePasswordChanged(const json::object& data);

// auth.session.revoked {user_id, session_id, reason?}: the session ended early
// (logout, revocation); the push devices it registered are removed.
struct SessionRevoked {
  std::string user_id;
  std::string session_id;
};
Result<SessionRevoked> DecodeSessionRevoked(const json::object& data);

// auth.user.deleted {user_id, deleted_at}: the account was deleted; the user's
// devices, preferences, mutes, inbox and waiting deliveries are removed.
struct UserDeleted {
  std::string user_id;
};
Result<UserDeleted> DecodeUserDeleted(const json::object& data);

// message.created {conversation_id, message_id, seq, sender_id, sender_name?,
// recipients:[user ids], preview, message_type (or type), conversation_title?}
struct MessageCreated {
  std::string conversation_id;
  std::string message_id;
  std::int64_t seq = 0;
  std::string sender_id;
  std::string sender_name;
  std::string conversation_title;
  std::vector<std::string> recipients;  // user ids (UUIDs), sender possibly included
  std::string preview;
  std::string message_type = "text";
};
Result<MessageCreated> DecodeMessageCreated(const json::object& data);

// payment.* : the parties of a transfer, request, top-up or withdrawal.
enum class PartyRole {
  kReceiver,   // transfer: money came in
  kSender,     // transfer: money went out
  kPayer,      // request: asked to pay
  kRequester,  // request: asked for the money
  kOwner,      // top-up / withdrawal: the wallet's owner
  kOther,      // anything else found in the event
};
struct PaymentParty {
  std::string user_id;
  PartyRole role;
};
struct PaymentEvent {
  std::string type;    // the full event type
  std::string object;  // "transfer", "request", "topup", "withdrawal", ""
  std::string object_id;
  std::int64_t amount = 0;
  std::string currency;
  std::string note;
  std::string conversation_id;
  std::string counterpart_name;       // from_name / sender_name when the producer has it
  std::vector<PaymentParty> parties;  // distinct users
};
Result<PaymentEvent> DecodePaymentEvent(std::string_view type, const json::object& data);

// How an event type is handled.
enum class EventKind {
  kOtpRequested,
  kPasswordChanged,
  kSessionRevoked,
  kUserDeleted,
  kMessageCreated,
  kPayment,
  kIgnored,
  kUnknown
};
// kIgnored: a known family this service has nothing to do for (message.updated,
// auth.user.created, ...). kUnknown: anything else (recorded as poison).
EventKind ClassifyEventType(std::string_view type);

}  // namespace tchat::notification
