#include "handlers.hpp"

#include <tchat/core/json.hpp>
#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>
#include <tchat/core/worker.hpp>

#include "messaging_worker.hpp"
#include "model_json.hpp"
#include "text.hpp"
#include "validation.hpp"
#include "ws_handler.hpp"

namespace tchat::messaging {

namespace {

using http::Request;
using http::Response;

MessagingService& Service(Request& req) {
  return *req.worker->Get<MessagingWorker>().service;
}

Response Fail(const Error& e) {
  return Response::FromError(e);
}

Result<std::int64_t> SeqParam(const Request& req) {
  auto seq = ParseSeqParam(std::string(req.PathParam("seq")), "seq");
  if (!seq) return std::move(seq).error();
  if (!*seq || **seq < 1) return Error::NotFound("message not found");
  return **seq;
}

Task<Response> CreateConversation(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto body = ParseJsonObject(req.body);
  if (!body) co_return Fail(body.error());
  auto type = RequireString(*body, "type");
  if (!type) co_return Fail(type.error());
  auto& svc = Service(req);
  const std::size_t max = req.worker->Get<MessagingWorker>().config.service.max_group_members;
  if (*type == "direct") {
    auto ids = ParseUserIds(*body, "member_ids", 2);
    if (!ids) co_return Fail(ids.error());
    if (ids->size() != 1) {
      co_return Fail(Error::InvalidArgument("member_ids must name exactly one other user"));
    }
    auto r = co_await svc.CreateDirect(*user, ids->front());
    if (!r) co_return Fail(r.error());
    co_return Response::Json(r->second ? 201 : 200, ConversationJson(r->first));
  }
  if (*type == "group") {
    auto title = ValidateTitle(body->if_contains("title"));
    if (!title) co_return Fail(title.error());
    std::vector<std::string> members;
    if (body->contains("member_ids")) {
      auto ids = ParseUserIds(*body, "member_ids", max);
      if (!ids) co_return Fail(ids.error());
      members = std::move(*ids);
    }
    auto r = co_await svc.CreateGroup(*user, *title, members);
    if (!r) co_return Fail(r.error());
    co_return Response::Json(201, ConversationJson(*r));
  }
  co_return Fail(Error::InvalidArgument("type must be direct or group"));
}

Task<Response> ListConversations(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto limit = ParseLimit(req.Query("limit"));
  if (!limit) co_return Fail(limit.error());
  const std::string cursor = req.Query("cursor").value_or("");
  auto page = co_await Service(req).List(*user, *limit, cursor);
  if (!page) co_return Fail(page.error());
  json::array list;
  list.reserve(page->conversations.size());
  for (const auto& c : page->conversations) list.push_back(ConversationJson(c));
  co_return Response::Json(
      200, json::object{{"conversations", std::move(list)},
                        {"next_cursor", page->next_cursor ? json::value(*page->next_cursor)
                                                          : json::value(nullptr)}});
}

Task<Response> GetConversation(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto c = co_await Service(req).Get(*user, req.PathParam("id"));
  if (!c) co_return Fail(c.error());
  co_return Response::Json(200, ConversationJson(*c));
}

Task<Response> PatchConversation(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto body = ParseJsonObject(req.body);
  if (!body) co_return Fail(body.error());
  auto title = ValidateTitle(body->if_contains("title"));
  if (!title) co_return Fail(title.error());
  auto c = co_await Service(req).UpdateTitle(*user, req.PathParam("id"), *title);
  if (!c) co_return Fail(c.error());
  co_return Response::Json(200, ConversationJson(*c));
}

Task<Response> AddMembers(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto body = ParseJsonObject(req.body);
  if (!body) co_return Fail(body.error());
  const std::size_t max = req.worker->Get<MessagingWorker>().config.service.max_group_members;
  auto ids = ParseUserIds(*body, "user_ids", max);
  if (!ids) co_return Fail(ids.error());
  if (ids->empty()) co_return Fail(Error::InvalidArgument("user_ids must not be empty"));
  auto c = co_await Service(req).AddMembers(*user, req.PathParam("id"), *ids);
  if (!c) co_return Fail(c.error());
  co_return Response::Json(200, ConversationJson(*c));
}

Task<Response> RemoveMember(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto st =
      co_await Service(req).RemoveMember(*user, req.PathParam("id"), req.PathParam("user_id"));
  if (!st) co_return Fail(st.error());
  co_return Response::NoContent();
}

Task<Response> PatchMember(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto body = ParseJsonObject(req.body);
  if (!body) co_return Fail(body.error());
  auto role = RequireString(*body, "role");
  if (!role) co_return Fail(role.error());
  auto c =
      co_await Service(req).SetRole(*user, req.PathParam("id"), req.PathParam("user_id"), *role);
  if (!c) co_return Fail(c.error());
  co_return Response::Json(200, ConversationJson(*c));
}

Task<Response> SendMessage(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto body = ParseJsonObject(req.body);
  if (!body) co_return Fail(body.error());
  auto input = ParseMessageInput(*body);
  if (!input) co_return Fail(input.error());
  auto& media = *req.worker->Get<MessagingWorker>().media;
  if (Status st = co_await media.ResolveAttachment(*user, *input); !st) co_return Fail(st.error());
  auto r = co_await Service(req).Send(*user, req.PathParam("id"), std::move(*input));
  if (!r) co_return Fail(r.error());
  co_return Response::Json(r->duplicate ? 200 : 201, MessageJson(r->message));
}

Task<Response> ListMessages(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto limit = ParseLimit(req.Query("limit"));
  if (!limit) co_return Fail(limit.error());
  auto before = ParseSeqParam(req.Query("before_seq"), "before_seq");
  if (!before) co_return Fail(before.error());
  auto after = ParseSeqParam(req.Query("after_seq"), "after_seq");
  if (!after) co_return Fail(after.error());
  HistoryQuery q;
  q.before_seq = *before;
  q.after_seq = *after;
  q.limit = *limit;
  auto page = co_await Service(req).History(*user, req.PathParam("id"), q);
  if (!page) co_return Fail(page.error());
  json::array list;
  list.reserve(page->messages.size());
  for (const auto& m : page->messages) list.push_back(MessageJson(m));
  co_return Response::Json(
      200, json::object{{"messages", std::move(list)}, {"has_more", page->has_more}});
}

Task<Response> EditMessage(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto seq = SeqParam(req);
  if (!seq) co_return Fail(seq.error());
  auto body = ParseJsonObject(req.body);
  if (!body) co_return Fail(body.error());
  auto text = ValidateTextBody(body->if_contains("body"), true);
  if (!text) co_return Fail(text.error());
  auto m = co_await Service(req).Edit(*user, req.PathParam("id"), *seq, *text);
  if (!m) co_return Fail(m.error());
  co_return Response::Json(200, MessageJson(*m));
}

Task<Response> DeleteMessage(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto seq = SeqParam(req);
  if (!seq) co_return Fail(seq.error());
  auto m = co_await Service(req).Delete(*user, req.PathParam("id"), *seq);
  if (!m) co_return Fail(m.error());
  co_return Response::Json(200, MessageJson(*m));
}

Task<Response> React(Request& req, bool add) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto seq = SeqParam(req);
  if (!seq) co_return Fail(seq.error());
  const std::string emoji(req.PathParam("emoji"));
  if (!IsValidReaction(emoji)) {
    co_return Fail(Error::InvalidArgument("emoji must be 1 to 8 characters (at most 32 bytes)"));
  }
  auto m = co_await Service(req).React(*user, req.PathParam("id"), *seq, emoji, add);
  if (!m) co_return Fail(m.error());
  co_return Response::Json(200, MessageJson(*m));
}

Task<Response> MarkRead(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto body = ParseJsonObject(req.body);
  if (!body) co_return Fail(body.error());
  auto seq = RequireInt(*body, "seq");
  if (!seq) co_return Fail(seq.error());
  if (*seq < 0) co_return Fail(Error::InvalidArgument("seq must not be negative"));
  auto st = co_await Service(req).MarkRead(*user, req.PathParam("id"), *seq);
  if (!st) co_return Fail(st.error());
  co_return Response::NoContent();
}

Task<Response> Typing(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto st = co_await Service(req).Typing(*user, req.PathParam("id"));
  if (!st) co_return Fail(st.error());
  co_return Response::NoContent();
}

Task<Response> Sync(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  const std::string since = req.Query("since").value_or("");
  auto r = co_await Service(req).Sync(*user, since);
  if (!r) co_return Fail(r.error());
  json::array convs, messages, truncated;
  for (const auto& sc : r->conversations) {
    convs.push_back(ConversationJson(sc.conversation));
    for (const auto& m : sc.messages) messages.push_back(MessageJson(m));
    if (sc.has_more) truncated.emplace_back(sc.conversation.id);
  }
  json::array removed;
  for (const auto& id : r->removed_conversation_ids) removed.emplace_back(id);
  co_return Response::Json(200, json::object{{"conversations", std::move(convs)},
                                             {"messages", std::move(messages)},
                                             {"truncated_conversation_ids", std::move(truncated)},
                                             {"removed_conversation_ids", std::move(removed)},
                                             {"token", r->token},
                                             {"full", r->full}});
}

SearchService& Search(Request& req) {
  return *req.worker->Get<MessagingWorker>().search;
}

json::array HighlightsJson(const std::vector<std::pair<std::size_t, std::size_t>>& ranges) {
  json::array out;
  out.reserve(ranges.size());
  for (const auto& [begin, end] : ranges) {
    out.push_back(json::array{static_cast<std::uint64_t>(begin), static_cast<std::uint64_t>(end)});
  }
  return out;
}

// GET /v1/search/messages?q=&conversation_id=&cursor=&limit=
Task<Response> SearchMessages(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto query = ParseSearchQuery(req.Query("q"));
  if (!query) co_return Fail(query.error());
  auto limit = ParseLimit(req.Query("limit"), 20, 50);
  if (!limit) co_return Fail(limit.error());
  auto r = co_await Search(req).Messages(*user, std::move(*query), req.Query("conversation_id"),
                                         req.Query("cursor"), *limit);
  if (!r) co_return Fail(r.error());
  json::array results;
  results.reserve(r->results.size());
  for (const MessageSearchHit& h : r->results) {
    results.push_back(json::object{{"message", MessageJson(h.message)},
                                   {"conversation_id", h.message.conversation_id},
                                   {"highlights", HighlightsJson(h.highlights)}});
  }
  co_return Response::Json(
      200, json::object{{"results", std::move(results)},
                        {"next_cursor",
                         r->next_cursor ? json::value(*r->next_cursor) : json::value(nullptr)}});
}

// GET /v1/search/conversations?q=&limit=
Task<Response> SearchConversations(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto query = ParseSearchQuery(req.Query("q"));
  if (!query) co_return Fail(query.error());
  auto limit = ParseLimit(req.Query("limit"), 20, 50);
  if (!limit) co_return Fail(limit.error());
  auto r = co_await Search(req).Conversations(*user, *query, *limit);
  if (!r) co_return Fail(r.error());
  json::array list;
  list.reserve(r->size());
  for (const Conversation& c : *r) list.push_back(ConversationJson(c));
  co_return Response::Json(200, json::object{{"conversations", std::move(list)}});
}

Task<Response> GetPresence(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  const std::string list = req.Query("user_ids").value_or("");
  std::vector<std::string> ids;
  std::string_view rest = list;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    if (!item.empty()) {
      auto id = CanonicalUuid(item);
      if (!id)
        co_return Fail(Error::InvalidArgument("user_ids must be user ids separated by commas"));
      if (std::find(ids.begin(), ids.end(), *id) == ids.end()) ids.push_back(std::move(*id));
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (ids.empty()) co_return Fail(Error::InvalidArgument("user_ids is required"));
  if (ids.size() > 200) co_return Fail(Error::InvalidArgument("at most 200 user_ids"));
  auto r = co_await Service(req).GetPresence(*user, ids);
  if (!r) co_return Fail(r.error());
  json::array out;
  for (const auto& p : *r) {
    out.push_back(json::object{
        {"user_id", p.user_id},
        {"online", p.online},
        {"last_seen_at", p.last_seen_ms > 0 ? json::value(FormatRfc3339Ms(p.last_seen_ms))
                                            : json::value(nullptr)}});
  }
  co_return Response::Json(200, json::object{{"presence", std::move(out)}});
}

Task<Response> BlockUser(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto body = ParseJsonObject(req.body);
  if (!body) co_return Fail(body.error());
  auto target = RequireString(*body, "user_id");
  if (!target) co_return Fail(target.error());
  auto id = CanonicalUuid(*target);
  if (!id) co_return Fail(Error::InvalidArgument("user_id must be a user id"));
  auto st = co_await Service(req).Block(*user, *id);
  if (!st) co_return Fail(st.error());
  co_return Response::NoContent();
}

Task<Response> UnblockUser(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto id = CanonicalUuid(req.PathParam("user_id"));
  if (!id) co_return Fail(Error::NotFound("not blocked"));
  auto st = co_await Service(req).Unblock(*user, *id);
  if (!st) co_return Fail(st.error());
  co_return Response::NoContent();
}

Task<Response> ListBlocks(Request& req) {
  auto user = http::CallerId(req);
  if (!user) co_return Fail(user.error());
  auto r = co_await Service(req).Blocked(*user);
  if (!r) co_return Fail(r.error());
  json::array ids;
  for (const auto& id : *r) ids.emplace_back(id);
  co_return Response::Json(200, json::object{{"blocked_user_ids", std::move(ids)}});
}

}  // namespace

void RegisterRoutes(http::Router& r) {
  r.Post("/v1/conversations", CreateConversation);
  r.Get("/v1/conversations", ListConversations);
  r.Get("/v1/conversations/{id}", GetConversation);
  r.Patch("/v1/conversations/{id}", PatchConversation);
  r.Post("/v1/conversations/{id}/members", AddMembers);
  r.Delete("/v1/conversations/{id}/members/{user_id}", RemoveMember);
  r.Patch("/v1/conversations/{id}/members/{user_id}", PatchMember);
  r.Post("/v1/conversations/{id}/messages", SendMessage);
  r.Get("/v1/conversations/{id}/messages", ListMessages);
  r.Patch("/v1/conversations/{id}/messages/{seq}", EditMessage);
  r.Delete("/v1/conversations/{id}/messages/{seq}", DeleteMessage);
  r.Put("/v1/conversations/{id}/messages/{seq}/reactions/{emoji}",
        [](Request& req) { return React(req, true); });
  r.Delete("/v1/conversations/{id}/messages/{seq}/reactions/{emoji}",
           [](Request& req) { return React(req, false); });
  r.Post("/v1/conversations/{id}/read", MarkRead);
  r.Post("/v1/conversations/{id}/typing", Typing);
  r.Get("/v1/sync", Sync);
  r.Get("/v1/search/messages", SearchMessages);
  r.Get("/v1/search/conversations", SearchConversations);
  r.Get("/v1/presence", GetPresence);
  r.Post("/v1/blocks", BlockUser);
  r.Get("/v1/blocks", ListBlocks);
  r.Delete("/v1/blocks/{user_id}", UnblockUser);
  r.WebSocketRoute("/v1/ws", HandleWebSocket);
}

}  // namespace tchat::messaging
