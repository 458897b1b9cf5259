#pragma once

#include <cstdint>
#include <string>

#include <tchat/core/json.hpp>

#include "model.hpp"

namespace tchat::messaging {

// The docs/api/openapi.yaml, messaging message object.
json::object MessageJson(const Message& m);
// The same, appended as JSON text: byte for byte serialize(MessageJson(m)).
void AppendMessageJson(std::string& out, const Message& m);
// The docs/api/openapi.yaml, messaging conversation object.
json::object ConversationJson(const Conversation& c);

// Server → client WebSocket events, serialised once and shared by every
// connection that receives them.
std::string MessageEvent(std::string_view type, const Message& m);  // message.new|updated|deleted
std::string ReactionEvent(const Message& m, std::string_view user_id, std::string_view emoji,
                          bool added);
std::string ReadEvent(std::string_view conversation_id, std::string_view user_id, std::int64_t seq);
std::string TypingEvent(std::string_view conversation_id, std::string_view user_id);
std::string PresenceEvent(std::string_view user_id, bool online, std::int64_t last_seen_ms);
std::string ConversationEvent(const Conversation& c);
// Sent to a member who left or was removed: the conversation is gone for them.
std::string ConversationRemovedEvent(std::string_view conversation_id);
// `retry_after_s` > 0 (a rate limit): seconds until the action is allowed again.
std::string ErrorEvent(std::string_view client_msg_id, std::string_view code,
                       std::string_view message, std::int64_t retry_after_s = 0);
std::string AckEvent(const Message& m);

}  // namespace tchat::messaging
