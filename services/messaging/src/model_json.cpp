#include "model_json.hpp"

#include <tchat/core/time.hpp>

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

void AppendMessageJson(std::string& out, const Message& m) {
  // `"key":` after the first member's separator.
  const auto key = [&out](std::string_view k) {
    if (out.back() != '{') out += ',';
    out += '"';
    out += k;
    out += "\":";
  };
  const auto string = [&](std::string_view k, const std::string* v) {
    key(k);
    if (v != nullptr) {
      AppendJsonString(out, *v);
    } else {
      out += "null";
    }
  };
  const auto number = [&](std::string_view k, const std::int64_t* v) {
    key(k);
    out += v != nullptr ? std::to_string(*v) : std::string("null");
  };
  const auto time = [&](std::string_view k, const std::int64_t* ms) {
    key(k);
    if (ms == nullptr) {
      out += "null";
      return;
    }
    out += '"';
    AppendRfc3339Ms(out, *ms);
    out += '"';
  };
  const auto object = [&](std::string_view k, const json::object* o) {
    if (o == nullptr) return;  // optional members are left out
    key(k);
    out += o->empty() ? std::string("{}") : json::serialize(*o);
  };
  out += '{';
  string("id", &m.id);
  string("conversation_id", &m.conversation_id);
  number("seq", &m.seq);
  string("sender_id", &m.sender_id);
  string("type", &m.type);
  string("body", &m.body);
  string("client_msg_id", m.client_msg_id ? &*m.client_msg_id : nullptr);
  number("reply_to_seq", m.reply_to_seq ? &*m.reply_to_seq : nullptr);
  time("created_at", &m.created_ms);
  time("edited_at", m.edited_ms ? &*m.edited_ms : nullptr);
  key("deleted");
  out += m.deleted ? "true" : "false";
  object("reactions", &m.reactions);
  object("attachment", m.attachment ? &*m.attachment : nullptr);
  object("payment", m.payment ? &*m.payment : nullptr);
  object("system", m.system ? &*m.system : nullptr);
  out += '}';
}

json::object ConversationJson(const Conversation& c) {
  json::object o;
  o.reserve(11);
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
  o["member_count"] = c.member_count;
  o["last_seq"] = c.last_seq;
  o["last_message"] = c.last_message ? json::value(MessageJson(*c.last_message)) : nullptr;
  o["unread_count"] = c.unread_count;
  o["created_at"] = FormatRfc3339Ms(c.created_ms);
  o["updated_at"] = FormatRfc3339Ms(c.updated_ms);
  return o;
}

// The events every message send produces are written directly: the DOM and
// its serialisation cost more than the rest of a send's work in this process.
namespace {

// The members every message event ends with, and the closing brace.
void AppendConversationAndMessage(std::string& out, const Message& m) {
  out += ",\"conversation_id\":";
  AppendJsonString(out, m.conversation_id);
  out += ",\"message\":";
  AppendMessageJson(out, m);
  out += '}';
}

}  // namespace

std::string MessageEvent(std::string_view type, const Message& m) {
  std::string out;
  out.reserve(320 + m.body.size());
  out += "{\"type\":";
  AppendJsonString(out, type);
  AppendConversationAndMessage(out, m);
  return out;
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
                       std::string_view message, std::int64_t retry_after_s) {
  json::object o{{"type", "error"}, {"error", json::object{{"code", code}, {"message", message}}}};
  if (!client_msg_id.empty()) o["client_msg_id"] = client_msg_id;
  if (retry_after_s > 0) o["retry_after"] = retry_after_s;
  return ToJson(o);
}

std::string AckEvent(const Message& m) {
  std::string out;
  out.reserve(340 + m.body.size());
  out += "{\"type\":\"ack\",\"client_msg_id\":";
  AppendJsonString(out, m.client_msg_id ? *m.client_msg_id : std::string_view());
  AppendConversationAndMessage(out, m);
  return out;
}

}  // namespace tchat::messaging
