#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tchat/core/json.hpp>

namespace tchat::messaging {

// The domain objects of docs/api/openapi.yaml, messaging as plain values. JSON conversion is in
// model_json.hpp so that stores and the service share one wire format.

// One message. `reactions` maps an emoji to the ids of the users who reacted, in the
// order they did. A deleted message is a tombstone: body, attachment, payment and
// reactions are cleared and `deleted` is true.
struct Message {
  std::string id;
  std::string conversation_id;
  std::int64_t seq = 0;
  std::string sender_id;
  std::string type;  // text | image | file | payment | system
  std::string body;
  std::optional<std::string> client_msg_id;
  std::optional<std::int64_t> reply_to_seq;
  std::optional<json::object> attachment;  // image and file messages
  std::optional<json::object> payment;     // payment messages
  std::optional<json::object> system;      // system messages: {"action",...}
  json::object reactions;
  std::int64_t created_ms = 0;
  std::optional<std::int64_t> edited_ms;
  bool deleted = false;
};

struct Member {
  std::string user_id;
  std::string role;  // owner | admin | member
  std::int64_t last_read_seq = 0;
};

// A conversation as one member sees it: unread_count and the caller's own
// membership are relative to that member.
struct Conversation {
  std::string id;
  std::string type;  // direct | group
  std::optional<std::string> title;
  std::int64_t last_seq = 0;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;  // last activity
  std::vector<Member> members;  // all, or a list page's (pgrows::MemberDetail)
  std::int64_t member_count = 0;
  std::optional<Message> last_message;
  std::int64_t unread_count = 0;
};

// What the caller is to a conversation (from one lookup): its type and the
// caller's role, empty when the caller is not a member.
struct Access {
  std::string type;
  std::string role;
  bool is_member() const { return !role.empty(); }
  bool is_admin() const { return role == "owner" || role == "admin"; }
};

}  // namespace tchat::messaging
