#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <tchat/core/json.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/sealed_box.hpp>
#include <tchat/core/time.hpp>

#include "events.hpp"
#include "localization.hpp"
#include "quiet_hours.hpp"

// The notification rules (docs/api/openapi.yaml, notification and issue 6), as pure functions:
// given an event and what is known about its recipients, what to send and what to keep in the
// inbox. No I/O, so every rule is unit-tested with a fixed clock.
namespace tchat::notification {

// One user's notification settings (notification_preferences; defaults when the
// user never saved any).
struct UserSettings {
  bool push_enabled = true;
  bool show_previews = true;
  std::optional<QuietHours> quiet;
  Locale locale = Locale::kEn;
  std::string timezone = "Asia/Bangkok";
};

// What the planner knows about one recipient when the event is handled.
struct RecipientView {
  UserSettings settings;
  bool online = false;       // an open WebSocket (presence:<user_id> in Redis)
  bool muted = false;        // this event's conversation is muted now
  bool has_devices = false;  // at least one registered push device
};

// A push to every device of `user_id`. `payload` is the template rendered when
// it is sent (RenderPush). Collapsible pushes wait for the collapse window and
// absorb later ones with the same (user_id, collapse_key).
struct PushItem {
  std::string user_id;
  std::string collapse_key;  // empty: none
  json::object payload;
  bool collapsible = false;
};
struct InboxItem {
  std::string user_id;
  std::string kind;
  std::string title;
  std::string body;
  json::object data;
  // Set for messages (kind "message"): entries collapse per (user_id,
  // collapse_key = the conversation), at most one unread entry each. `render` is
  // the message's push payload, from which RenderMessageInbox renders the entry
  // again when later messages join it.
  std::string collapse_key;
  json::object render;
};
struct SmsItem {
  std::string phone;
  json::object payload;  // RenderSms
};
struct Suppressed {
  std::string user_id;
  std::string reason;  // online, push_disabled, muted, quiet_hours, no_device, stale, expired
};
struct Plan {
  std::vector<PushItem> pushes;
  std::vector<InboxItem> inbox;
  std::vector<SmsItem> sms;
  std::vector<Suppressed> suppressed;
};

struct RuleOptions {
  // Pushes for events older than this are dropped (a backlog after an outage must
  // not wake people with stale messages); inbox entries are still written.
  std::chrono::seconds max_push_age{std::chrono::hours(24)};
};

// Looks up a recipient; must know every user the event names.
using RecipientLookup = std::function<const RecipientView&(const std::string& user_id)>;

// message.created → for each recipient who is not the sender, is offline and has
// not muted the conversation: an inbox entry (kind "message", collapsible by
// conversation, whatever the push settings: push_enabled, quiet hours, devices
// and the event's age only decide the push), and a push when the recipient has
// push on, is outside quiet hours and has a device. Pushes collapse by
// conversation too.
Plan PlanMessage(const Envelope& env, const MessageCreated& m, const RecipientLookup& view,
                 SysTime now, const RuleOptions& options);

// payment.* → an inbox entry for each party and a push when the party has push on,
// is outside quiet hours and has a device.
Plan PlanPayment(const Envelope& env, const PaymentEvent& p, const RecipientLookup& view,
                 SysTime now, const RuleOptions& options);

// auth.password.changed → a "security" inbox entry and a push to every device of
// the user (quiet hours do not hold it back: the user must learn of it at once;
// push_enabled=false, no device or an old event do).
Plan PlanPasswordChanged(const Envelope& env, const PasswordChanged& pc,
                         const RecipientLookup& view, SysTime now, const RuleOptions& options);

// auth.otp.requested → one SMS, whatever the preferences, unless the code has
// already expired. Language: the event's locale, else the user's, else the
// phone number's country.
Plan PlanOtp(const Envelope& env, const OtpRequested& otp, std::optional<Locale> user_locale,
             SysTime now);

// A push ready for a provider.
struct RenderedPush {
  std::string title;
  std::string body;
  json::object data;  // string values only (FCM data map)
  std::string collapse_key;
  std::string kind;
  bool high_priority = true;
  std::int64_t ttl_seconds = 86400;
  std::optional<SysTime> event_at;
};
// Renders a push payload; `count` is how many events were collapsed into it.
RenderedPush RenderPush(const json::object& payload, int count);

// Where a message push payload's message stands among those of its conversation:
// (seq, event_at). The later of two is the one a collapsed notification shows.
std::pair<std::int64_t, std::int64_t> MessageOrder(const json::object& payload);

// A "message" inbox entry covering `count` messages of one conversation, the
// latest of which `payload` (a message push payload) describes: the push's title
// and body for that count, and data {"conversation_id","message_id","sender_id",
// "seq","count"} (seq and count as numbers).
struct MessageInboxText {
  std::string title;
  std::string body;
  json::object data;
};
MessageInboxText RenderMessageInbox(const json::object& payload, std::int64_t count);

struct RenderedSms {
  std::string to;
  std::string text;
  std::string locale;
  std::optional<SysTime> expires_at;  // after this the text is useless: drop it
  std::optional<SysTime> event_at;
};
// Opens the payload's sealed code with `opener` (kInvalidArgument when it does
// not open: the row is dead-lettered, still sealed).
Result<RenderedSms> RenderSms(const json::object& payload, const SealedBoxOpener& opener);

}  // namespace tchat::notification
