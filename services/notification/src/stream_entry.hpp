#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <tchat/core/redis/streams.hpp>

#include "events.hpp"

namespace tchat::notification {

// A stream entry that holds an event: its envelope and, for the types this
// service acts on, the decoded data.
struct ParsedEntry {
  std::string entry_id;
  Envelope env;
  EventKind kind = EventKind::kUnknown;
  std::variant<std::monostate, OtpRequested, PasswordChanged, SessionRevoked, UserDeleted,
               MessageCreated, PaymentEvent>
      decoded;
};

// An entry that cannot be processed, as poison_events records it: the fields
// parsing got to, each safe for a text column.
struct PoisonEntry {
  std::string entry_id;
  std::string event_id;
  std::string type;
  std::string reason;
  std::string raw;
};

// Valid UTF-8, no NUL, at most ~4 KB: safe for a text column.
std::string SafeText(std::string_view s);

// The event type as a metrics label: the type itself for the known ones (payment
// types up to 64 bytes, else "payment"), "other" for the rest.
std::string_view TypeLabel(const ParsedEntry& p);

// Parses one entry (envelope and data); on failure fills `poison` and returns
// nullopt. An entry of a type this service ignores parses (kind kIgnored).
std::optional<ParsedEntry> ParseEntry(const redis::StreamEntry& entry, PoisonEntry& poison);

}  // namespace tchat::notification
