#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tchat/core/json.hpp>
#include <tchat/core/result.hpp>

namespace tchat::messaging {

inline constexpr std::size_t kMaxBodyCodePoints = 4096;
inline constexpr std::size_t kMaxTitleCodePoints = 200;

// A message as a client asks to send it, validated (the POST body of
// /v1/conversations/{id}/messages and the "message" of a WebSocket message.send).
struct MessageInput {
  std::string client_msg_id;
  std::string type = "text";  // text | image | file (payment and system are the server's)
  std::string body;
  std::optional<std::int64_t> reply_to_seq;
  std::optional<json::object> attachment;  // image | voice | video | file
  // An upload of the sender's (POST /v1/media) to attach; the service turns it
  // into `attachment` (MediaService::ResolveAttachment) before sending.
  std::optional<std::string> attachment_id;
};

// Checks everything the API asks of a message: client_msg_id (1–128 printable
// ASCII), type, body (valid UTF-8, no NUL, 1–4096 characters for text; an optional
// caption of up to 4096 for the others), reply_to_seq >= 1, and for
// image/voice/video/file an "attachment_id" (an upload's id), or for image/file
// an outside "attachment" {"url" (absolute http(s)), "mime_type"?, "name" (files),
// "size"?, "width"?, "height"?}. Errors are invalid_argument naming the field.
Result<MessageInput> ParseMessageInput(const json::object& o);

// A new body for an edit: the same rules as a text body.
Result<std::string> ValidateTextBody(const json::value* v, bool allow_empty);

// A group title: 1–200 characters of valid UTF-8 without control characters.
Result<std::string> ValidateTitle(const json::value* v);

// A JSON array of user ids (UUIDs), canonicalised and de-duplicated in order; at
// most `max` of them.
Result<std::vector<std::string>> ParseUserIds(const json::object& o, std::string_view field,
                                              std::size_t max);

// ?limit= (default 50, 1..200).
Result<int> ParseLimit(const std::optional<std::string>& text, int fallback = 50, int max = 200);

// A non-negative integer query parameter or path segment (seq values).
Result<std::optional<std::int64_t>> ParseSeqParam(const std::optional<std::string>& text,
                                                  std::string_view name);

}  // namespace tchat::messaging
