#include "model_json.hpp"

#include "text.hpp"

namespace tchat::messaging {

json::object MessageJson(const Message& m) {
  json::object o;
  o.reserve(16);
  o["id"] = m.id;
  o["conversation_id"] = m.conversation_id;
  o["seq"] = m.seq;
  o["sender_id"] = m.sender_id;
  o["type"] = m.type;
  o["body"] = m.body;
  o["client_msg_id"] = m.client_msg_id ? json::value(*m.client_msg_id) : json::value(nullptr);
  o["reply_to_seq"] = m.reply_to_seq ? json::value(*m.reply_to_seq) : json::value(nullptr);
  o["created_at"] = FormatRfc3339Ms(m.created_ms);
  o["edited_at"] = m.edited_ms ? json::value(FormatRfc3339Ms(*m.edited_ms)) : json::value(nullptr);
  o["deleted"] = m.deleted;
  o["reactions"] = m.reactions;
  if (m.attachment) o["attachment"] = *m.attachment;
  if (m.payment) o["payment"] = *m.payment;
  if (m.system) o["system"] = *m.system;
  return o;
}

json::object ConversationJson(const Conversation& c) {
  json::object o;
  o.reserve(10);
  o["id"] = c.id;
  o["type"] = c.type;
  o["title"] = c.title ? json::value(*c.title) : json::value(nullptr);
  json::array members;
  members.reserve(c.members.size());
  for (const Member& m : c.members) {
    members.push_back(
        json::object{{"user_id", m.user_id}, {"role", m.role}, {"last_read_seq", m.last_read_seq}});
  }
  o["members"] = std::move(members);
  o["last_seq"] = c.last_seq;
  o["last_message"] = c.last_message ? json::value(MessageJson(*c.last_message)) : nullptr;
  o["unread_count"] = c.unread_count;
  o["created_at"] = FormatRfc3339Ms(c.created_ms);
  o["updated_at"] = FormatRfc3339Ms(c.updated_ms);
  return o;
}

std::string MessageEvent(std::string_view type, const Message& m) {
  return ToJson(json::object{
      {"type", type}, {"conversation_id", m.conversation_id}, {"message", MessageJson(m)}});
}

std::string ReactionEvent(const Message& m, std::string_view user_id, std::string_view emoji,
                          bool added) {
  return ToJson(json::object{
      {"type", "reaction"},
      {"conversation_id", m.conversation_id},
      {"reaction",
       json::object{{"seq", m.seq}, {"user_id", user_id}, {"emoji", emoji}, {"added", added}}},
      {"message", MessageJson(m)}});
}

std::string ReadEvent(std::string_view conversation_id, std::string_view user_id,
                      std::int64_t seq) {
  return ToJson(json::object{{"type", "read"},
                             {"conversation_id", conversation_id},
                             {"read", json::object{{"user_id", user_id}, {"seq", seq}}}});
}

std::string TypingEvent(std::string_view conversation_id, std::string_view user_id) {
  return ToJson(json::object{{"type", "typing"},
                             {"conversation_id", conversation_id},
                             {"typing", json::object{{"user_id", user_id}}}});
}

std::string PresenceEvent(std::string_view user_id, bool online, std::int64_t last_seen_ms) {
  return ToJson(json::object{
      {"type", "presence"},
      {"presence",
       json::object{{"user_id", user_id},
                    {"online", online},
                    {"last_seen_at", last_seen_ms > 0 ? json::value(FormatRfc3339Ms(last_seen_ms))
                                                      : json::value(nullptr)}}}});
}

std::string ConversationEvent(const Conversation& c) {
  return ToJson(json::object{{"type", "conversation.updated"},
                             {"conversation_id", c.id},
                             {"conversation", ConversationJson(c)}});
}

std::string ConversationRemovedEvent(std::string_view conversation_id) {
  return ToJson(json::object{{"type", "conversation.updated"},
                             {"conversation_id", conversation_id},
                             {"removed", true},
                             {"conversation", nullptr}});
}

std::string ErrorEvent(std::string_view client_msg_id, std::string_view code,
                       std::string_view message) {
  json::object o{{"type", "error"}, {"error", json::object{{"code", code}, {"message", message}}}};
  if (!client_msg_id.empty()) o["client_msg_id"] = client_msg_id;
  return ToJson(o);
}

std::string AckEvent(const Message& m) {
  return ToJson(json::object{{"type", "ack"},
                             {"client_msg_id", m.client_msg_id ? *m.client_msg_id : std::string()},
                             {"conversation_id", m.conversation_id},
                             {"message", MessageJson(m)}});
}

}  // namespace tchat::messaging
