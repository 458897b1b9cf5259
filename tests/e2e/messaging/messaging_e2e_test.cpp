// End-to-end tests of the messaging service through its real HTTP and WebSocket
// API, against the running service (TCHAT_TEST_MESSAGING_URL) with real PostgreSQL
// and Redis behind it. Users are made up; tokens are minted with the test signing
// key (TCHAT_TEST_JWT_KEY_FILE). TCHAT_TEST_REDIS_URL (the service's Redis) is
// needed by the event-stream tests.
#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <tchat/core/events/streams.hpp>
#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/streams.hpp>
#include <tchat/core/uuid.hpp>

#include "support/env.hpp"
#include "support/fixture.hpp"
#include "support/json_fields.hpp"

namespace tchat::e2e {
namespace {

using namespace std::chrono_literals;
using client::WsClient;

// The messaging service (TCHAT_TEST_MESSAGING_URL) and its conversations.
class E2eTest : public ServiceTest {
 protected:
  E2eTest() : ServiceTest("TCHAT_TEST_MESSAGING_URL") {}

  // Creates (or finds) the direct conversation of a and b; returns its id.
  std::string Direct(User& a, const User& b) {
    auto r = a.api->Run(a.api->async().CreateDirect(b.id));
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.raw;
    return Str(r.object(), "id");
  }

  std::string Group(User& owner, const std::vector<const User*>& members,
                    std::string title = "group") {
    std::vector<std::string> ids;
    for (const User* m : members) ids.push_back(m->id);
    auto r = owner.api->Run(owner.api->async().CreateGroup(title, ids));
    EXPECT_EQ(r.status, 201) << r.raw;
    return Str(r.object(), "id");
  }

  ApiResponse SendText(User& u, const std::string& conv, const std::string& body,
                       std::string cmid = {}) {
    if (cmid.empty()) cmid = NewUuidV7();
    return u.api->Run(u.api->async().SendText(conv, cmid, body));
  }

  std::vector<json::object> History(User& u, const std::string& conv, int limit = 200) {
    auto r = u.api->Run(u.api->async().History(conv, std::nullopt, std::nullopt, limit));
    EXPECT_EQ(r.status, 200) << r.raw;
    std::vector<json::object> out;
    for (const auto& m : Arr(r.object(), "messages")) out.push_back(m.get_object());
    return out;
  }
};

// ---------------------------------------------------------------------------
// Conversations
// ---------------------------------------------------------------------------

TEST_F(E2eTest, DirectConversationIsCreatedOncePerPair) {
  User a = NewUser(), b = NewUser();
  auto first = a.api->Run(a.api->async().CreateDirect(b.id));
  ASSERT_EQ(first.status, 201) << first.raw;
  const std::string id = Str(first.object(), "id");
  EXPECT_EQ(Str(first.object(), "type"), "direct");
  EXPECT_EQ(Arr(first.object(), "members").size(), 2u);
  EXPECT_EQ(Int(first.object(), "last_seq"), 0);
  auto again = a.api->Run(a.api->async().CreateDirect(b.id));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(Str(again.object(), "id"), id);
  auto other_side = b.api->Run(b.api->async().CreateDirect(a.id));
  EXPECT_EQ(other_side.status, 200);
  EXPECT_EQ(Str(other_side.object(), "id"), id);
  auto self = a.api->Run(a.api->async().CreateDirect(a.id));
  EXPECT_EQ(self.status, 400);
}

TEST_F(E2eTest, ConcurrentDirectCreatesGiveOneConversation) {
  User a = NewUser(), b = NewUser();
  std::vector<std::string> ids(6);
  bool failed = false;
  int done = 0;
  for (int i = 0; i < 6; ++i) {
    User& who = (i % 2 == 0) ? a : b;
    const std::string peer = (i % 2 == 0) ? b.id : a.id;
    boost::asio::co_spawn(
        io_,
        [&, i, peer]() -> Task<void> {
          auto r = co_await who.api->async().CreateDirect(peer);
          if (!r || (r->status != 200 && r->status != 201)) failed = true;
          if (r) ids[static_cast<std::size_t>(i)] = Str(r->object(), "id");
          ++done;
        },
        boost::asio::detached);
  }
  client::RunUntil(
      io_, [&] { return done == 6; }, 20s);
  ASSERT_EQ(done, 6);
  EXPECT_FALSE(failed);
  for (const auto& id : ids) EXPECT_EQ(id, ids[0]);
}

TEST_F(E2eTest, GroupRolesTitleAndListing) {
  User a = NewUser(), b = NewUser(), c = NewUser();
  const std::string g = Group(a, {&b, &c}, "Friends");
  auto conv = a.api->Run(a.api->async().GetConversation(g));
  ASSERT_EQ(conv.status, 200);
  EXPECT_EQ(Str(conv.object(), "title"), "Friends");
  std::map<std::string, std::string> roles;
  for (const auto& m : Arr(conv.object(), "members")) {
    roles[Str(m.get_object(), "user_id")] = Str(m.get_object(), "role");
  }
  EXPECT_EQ(roles[a.id], "owner");
  EXPECT_EQ(roles[b.id], "member");
  EXPECT_EQ(roles[c.id], "member");

  // Members cannot rename or add; the owner can; promoted admins can.
  EXPECT_EQ(b.api->Run(b.api->async().UpdateTitle(g, "Mine")).status, 403);
  User d = NewUser();
  EXPECT_EQ(b.api->Run(b.api->async().AddMembers(g, {d.id})).status, 403);
  auto renamed = a.api->Run(a.api->async().UpdateTitle(g, "Best friends"));
  ASSERT_EQ(renamed.status, 200) << renamed.raw;
  EXPECT_EQ(Str(renamed.object(), "title"), "Best friends");
  auto promote = a.api->Call("PATCH", "/v1/conversations/" + g + "/members/" + b.id,
                             json::object{{"role", "admin"}});
  ASSERT_EQ(promote.status, 200) << promote.raw;
  auto added = b.api->Run(b.api->async().AddMembers(g, {d.id}));
  ASSERT_EQ(added.status, 200) << added.raw;
  EXPECT_EQ(Arr(added.object(), "members").size(), 4u);
  // An admin cannot remove the owner; the owner can remove the admin.
  EXPECT_EQ(b.api->Run(b.api->async().RemoveMember(g, a.id)).status, 403);

  // A direct conversation has no title and no members to add.
  const std::string dm = Direct(a, b);
  EXPECT_EQ(a.api->Run(a.api->async().UpdateTitle(dm, "x")).status, 422);
  EXPECT_EQ(a.api->Run(a.api->async().AddMembers(dm, {c.id})).status, 422);

  // The list is ordered by recent activity, with last message and unread count.
  ASSERT_EQ(SendText(c, g, "hello group").status, 201);
  ASSERT_EQ(SendText(b, dm, "hello a").status, 201);
  ASSERT_EQ(SendText(b, dm, "again").status, 201);
  auto list = a.api->Run(a.api->async().ListConversations());
  ASSERT_EQ(list.status, 200);
  const auto& convs = Arr(list.object(), "conversations");
  ASSERT_GE(convs.size(), 2u);
  EXPECT_EQ(Str(convs[0].get_object(), "id"), dm);
  EXPECT_EQ(Int(convs[0].get_object(), "unread_count"), 2);
  EXPECT_EQ(Str(Obj(convs[0].get_object(), "last_message"), "body"), "again");
  EXPECT_EQ(Str(convs[1].get_object(), "id"), g);
  // c's message and the "members_added" system message posted by b.
  EXPECT_EQ(Int(convs[1].get_object(), "unread_count"), 2);
  // A list page carries a group's count and the caller's own membership only, a
  // direct conversation both members (docs/api/openapi.yaml, listConversations).
  EXPECT_EQ(Int(convs[1].get_object(), "member_count"), 4);
  const auto& own = Arr(convs[1].get_object(), "members");
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(Str(own[0].get_object(), "user_id"), a.id);
  EXPECT_EQ(Int(convs[0].get_object(), "member_count"), 2);
  EXPECT_EQ(Arr(convs[0].get_object(), "members").size(), 2u);
}

TEST_F(E2eTest, ListPagesWithCursor) {
  User a = NewUser();
  std::set<std::string> made;
  for (int i = 0; i < 5; ++i) {
    User peer = NewUser();
    made.insert(Direct(a, peer));
  }
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto r = a.api->Run(a.api->async().ListConversations(2, cursor));
    ASSERT_EQ(r.status, 200) << r.raw;
    for (const auto& c : Arr(r.object(), "conversations")) {
      EXPECT_TRUE(seen.insert(Str(c.get_object(), "id")).second) << "listed twice";
    }
    const json::value* next = r.object().if_contains("next_cursor");
    cursor = next != nullptr && next->is_string() ? std::string(next->get_string()) : "";
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(seen, made);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(a.api->Call("GET", "/v1/conversations?cursor=garbage").status, 400);
  EXPECT_EQ(a.api->Call("GET", "/v1/conversations?limit=0").status, 400);
  EXPECT_EQ(a.api->Call("GET", "/v1/conversations?limit=201").status, 400);
}

// ---------------------------------------------------------------------------
// Chat in real time
// ---------------------------------------------------------------------------

TEST_F(E2eTest, TwoUsersChatInADirectConversation) {
  User a = NewUser(), b = NewUser();
  const std::string conv = Direct(a, b);
  auto wa = Connect(a);
  auto wb = Connect(b);

  // HTTP send: both members' connections get message.new.
  auto sent = SendText(a, conv, "hi b", "a-1");
  ASSERT_EQ(sent.status, 201) << sent.raw;
  EXPECT_EQ(Int(sent.object(), "seq"), 1);
  EXPECT_EQ(Str(sent.object(), "sender_id"), a.id);
  EXPECT_EQ(Str(sent.object(), "client_msg_id"), "a-1");
  auto ev = wb->NextOfType("message.new", 5s);
  ASSERT_TRUE(ev);
  EXPECT_EQ(Str(*ev, "conversation_id"), conv);
  EXPECT_EQ(Str(Obj(*ev, "message"), "body"), "hi b");
  EXPECT_EQ(Int(Obj(*ev, "message"), "seq"), 1);
  ASSERT_TRUE(wa->NextOfType("message.new", 5s));

  // WebSocket send: ack to the sender, message.new to the other side.
  ASSERT_TRUE(wb->Send(WsClient::MessageSendFrame(conv, "b-1", "hello a")).ok());
  auto ack = wb->NextOfType("ack", 5s);
  ASSERT_TRUE(ack) << "no ack";
  EXPECT_EQ(Str(*ack, "client_msg_id"), "b-1");
  EXPECT_EQ(Int(Obj(*ack, "message"), "seq"), 2);
  auto got = wa->NextOfType("message.new", 5s);
  ASSERT_TRUE(got);
  EXPECT_EQ(Str(Obj(*got, "message"), "body"), "hello a");
  EXPECT_EQ(Str(Obj(*got, "message"), "sender_id"), b.id);
  // The sending connection got the ack instead of a copy.
  EXPECT_TRUE(wb->CollectType("message.new", 300ms).empty());

  auto hist = History(b, conv);
  ASSERT_EQ(hist.size(), 2u);
  EXPECT_EQ(Int(hist[0], "seq"), 1);
  EXPECT_EQ(Int(hist[1], "seq"), 2);
  EXPECT_EQ(Str(hist[1], "created_at").size(), 24u);  // 2024-01-01T00:00:00.000Z

  // ping → pong
  ASSERT_TRUE(wa->Send(WsClient::PingFrame()).ok());
  EXPECT_TRUE(wa->NextOfType("pong", 5s));
}

TEST_F(E2eTest, EveryDeviceGetsEachMessageOnce) {
  User a = NewUser(), b = NewUser();
  const std::string conv = Direct(a, b);
  auto b1 = Connect(b), b2 = Connect(b), b3 = Connect(b);
  auto a1 = Connect(a);
  constexpr int kMessages = 20;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(a1->Send(WsClient::MessageSendFrame(conv, "m" + std::to_string(i), "x")).ok());
  }
  EXPECT_EQ(a1->CollectType("ack", 2s).size() + 0, static_cast<std::size_t>(kMessages));
  for (auto* dev : {b1.get(), b2.get(), b3.get()}) {
    std::multiset<std::int64_t> seqs;
    for (const auto& e : dev->CollectType("message.new", 1s)) {
      seqs.insert(Int(Obj(e, "message"), "seq"));
    }
    ASSERT_EQ(seqs.size(), static_cast<std::size_t>(kMessages));
    for (int s = 1; s <= kMessages; ++s) EXPECT_EQ(seqs.count(s), 1u) << "seq " << s;
  }
  // A second device of the sender gets the messages too (only the sending
  // connection is left out).
  auto a2 = Connect(a);
  ASSERT_TRUE(a1->Send(WsClient::MessageSendFrame(conv, "last", "y")).ok());
  auto copy = a2->NextOfType("message.new", 5s);
  ASSERT_TRUE(copy);
  EXPECT_EQ(Str(Obj(*copy, "message"), "client_msg_id"), "last");
}

TEST_F(E2eTest, GroupChatReachesEveryMember) {
  User a = NewUser(), b = NewUser(), c = NewUser();
  const std::string g = Group(a, {&b, &c});
  auto wa = Connect(a), wb = Connect(b), wc = Connect(c);
  ASSERT_TRUE(wb->Send(WsClient::MessageSendFrame(g, "gb-1", "from b")).ok());
  ASSERT_TRUE(wb->NextOfType("ack", 5s));
  for (auto* w : {wa.get(), wc.get()}) {
    auto e = w->NextOfType("message.new", 5s);
    ASSERT_TRUE(e);
    EXPECT_EQ(Str(Obj(*e, "message"), "body"), "from b");
  }
}

TEST_F(E2eTest, NewMemberIsToldAndReceivesAfterwards) {
  User a = NewUser(), b = NewUser(), d = NewUser();
  const std::string g = Group(a, {&b});
  auto wd = Connect(d);
  auto wb = Connect(b);
  ASSERT_EQ(a.api->Run(a.api->async().AddMembers(g, {d.id})).status, 200);
  auto joined = wd->NextOfType("conversation.updated", 5s);
  ASSERT_TRUE(joined);
  EXPECT_EQ(Str(*joined, "conversation_id"), g);
  EXPECT_TRUE(wb->NextOfType("conversation.updated", 5s));
  ASSERT_EQ(SendText(a, g, "welcome d").status, 201);
  bool got = false;
  for (int i = 0; i < 5 && !got; ++i) {
    auto e = wd->NextOfType("message.new", 5s);
    ASSERT_TRUE(e);
    got = Str(Obj(*e, "message"), "body") == "welcome d";  // skip the system message
  }
  EXPECT_TRUE(got);
}

TEST_F(E2eTest, RemovedMemberStopsReceiving) {
  User a = NewUser(), b = NewUser(), c = NewUser();
  const std::string g = Group(a, {&b, &c});
  auto wb = Connect(b), wc = Connect(c);
  ASSERT_EQ(SendText(a, g, "before").status, 201);
  ASSERT_TRUE(wc->NextOfType("message.new", 5s));
  ASSERT_TRUE(wb->NextOfType("message.new", 5s));

  ASSERT_EQ(a.api->Run(a.api->async().RemoveMember(g, c.id)).status, 204);
  auto removed = wc->NextOfType("conversation.updated", 5s);
  ASSERT_TRUE(removed);
  EXPECT_TRUE(removed->at("removed").as_bool());
  (void)wc->CollectFor(200ms);  // drop anything already in flight
  ASSERT_EQ(SendText(a, g, "after").status, 201);
  bool b_got = false;
  for (int i = 0; i < 5 && !b_got; ++i) {
    auto e = wb->NextOfType("message.new", 5s);
    ASSERT_TRUE(e);
    b_got = Str(Obj(*e, "message"), "body") == "after";
  }
  ASSERT_TRUE(b_got);
  for (const auto& e : wc->CollectFor(500ms)) {
    EXPECT_NE(Str(e, "type"), "message.new") << ToJson(e);
  }
  EXPECT_EQ(c.api->Run(c.api->async().GetConversation(g)).status, 403);
  EXPECT_EQ(SendText(c, g, "let me in").status, 403);
  // Leaving: b leaves by removing themself.
  ASSERT_EQ(b.api->Run(b.api->async().RemoveMember(g, b.id)).status, 204);
  EXPECT_EQ(b.api->Run(b.api->async().History(g, std::nullopt, std::nullopt, 10)).status, 403);
}

TEST_F(E2eTest, OwnerLeavingHandsOverOwnership) {
  User a = NewUser(), b = NewUser(), c = NewUser();
  const std::string g = Group(a, {&b, &c});
  ASSERT_EQ(a.api
                ->Call("PATCH", "/v1/conversations/" + g + "/members/" + c.id,
                       json::object{{"role", "admin"}})
                .status,
            200);
  ASSERT_EQ(a.api->Run(a.api->async().RemoveMember(g, a.id)).status, 204);
  auto conv = b.api->Run(b.api->async().GetConversation(g));
  ASSERT_EQ(conv.status, 200);
  std::map<std::string, std::string> roles;
  for (const auto& m : Arr(conv.object(), "members")) {
    roles[Str(m.get_object(), "user_id")] = Str(m.get_object(), "role");
  }
  EXPECT_EQ(roles.count(a.id), 0u);
  EXPECT_EQ(roles[c.id], "owner");  // the admin takes over
  EXPECT_EQ(roles[b.id], "member");
}

TEST_F(E2eTest, NonMembersGet403AndUnknownIds404OnEveryEndpoint) {
  User a = NewUser(), b = NewUser(), outsider = NewUser();
  const std::string g = Group(a, {&b});
  auto sent = SendText(a, g, "secret");
  ASSERT_EQ(sent.status, 201);
  const std::string unknown = NewUuidV7();
  struct Call {
    std::string method, path;
    std::optional<json::value> body;
  };
  auto calls = [](const std::string& c, const std::string& member) {
    const std::string base = "/v1/conversations/" + c;
    return std::vector<Call>{
        {"GET", base, std::nullopt},
        {"PATCH", base, json::object{{"title", "x"}}},
        {"POST", base + "/members", json::object{{"user_ids", json::array{member}}}},
        {"DELETE", base + "/members/" + member, std::nullopt},
        {"POST", base + "/messages",
         json::object{{"client_msg_id", "x1"}, {"type", "text"}, {"body", "hi"}}},
        {"GET", base + "/messages", std::nullopt},
        {"PATCH", base + "/messages/1", json::object{{"body", "edited"}}},
        {"DELETE", base + "/messages/1", std::nullopt},
        {"PUT", base + "/messages/1/reactions/%F0%9F%91%8D", std::nullopt},
        {"DELETE", base + "/messages/1/reactions/%F0%9F%91%8D", std::nullopt},
        {"POST", base + "/read", json::object{{"seq", 1}}},
        {"POST", base + "/typing", std::nullopt},
    };
  };
  for (const auto& call : calls(g, b.id)) {
    auto r = outsider.api->Call(call.method, call.path, call.body);
    EXPECT_EQ(r.status, 403) << call.method << " " << call.path << " " << r.raw;
    EXPECT_EQ(r.error_code(), "permission_denied") << call.method << " " << call.path;
  }
  for (const auto& call : calls(unknown, b.id)) {
    auto r = a.api->Call(call.method, call.path, call.body);
    EXPECT_EQ(r.status, 404) << call.method << " " << call.path << " " << r.raw;
  }
  for (const auto& call : calls("not-a-uuid", b.id)) {
    auto r = a.api->Call(call.method, call.path, call.body);
    EXPECT_EQ(r.status, 404) << call.method << " " << call.path << " " << r.raw;
  }
  // Over the WebSocket too.
  auto ws = Connect(outsider);
  ASSERT_TRUE(ws->Send(WsClient::MessageSendFrame(g, "ws-x", "hi")).ok());
  auto err = ws->NextOfType("error", 5s);
  ASSERT_TRUE(err);
  EXPECT_EQ(Str(Obj(*err, "error"), "code"), "permission_denied");
  EXPECT_EQ(Str(*err, "client_msg_id"), "ws-x");
  ASSERT_TRUE(ws->Send(WsClient::TypingFrame(g)).ok());
  auto err2 = ws->NextOfType("error", 5s);
  ASSERT_TRUE(err2);
  EXPECT_EQ(Str(Obj(*err2, "error"), "code"), "permission_denied");
  // Nothing the outsider did reached the conversation.
  auto hist = History(a, g);
  ASSERT_EQ(hist.size(), 1u);
  EXPECT_EQ(Str(hist[0], "body"), "secret");
  // No token at all: 401.
  BlockingApi anon(io_, url_);
  EXPECT_EQ(anon.Call("GET", "/v1/conversations").status, 401);
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

TEST_F(E2eTest, RetriesWithTheSameClientMsgIdAreIdempotent) {
  User a = NewUser(), b = NewUser();
  const std::string conv = Direct(a, b);
  auto first = SendText(a, conv, "once", "retry-1");
  ASSERT_EQ(first.status, 201);
  auto second = SendText(a, conv, "once", "retry-1");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(Str(second.object(), "id"), Str(first.object(), "id"));
  EXPECT_EQ(Int(second.object(), "seq"), Int(first.object(), "seq"));
  // The same id from the other member is a different message.
  auto other = SendText(b, conv, "mine", "retry-1");
  EXPECT_EQ(other.status, 201);
  // Over the WebSocket: both acks name the same message; one stored.
  auto wa = Connect(a);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(wa->Send(WsClient::MessageSendFrame(conv, "retry-ws", "ws once")).ok());
  }
  auto acks = wa->CollectType("ack", 1500ms);
  ASSERT_EQ(acks.size(), 3u);
  for (const auto& ack : acks) {
    EXPECT_EQ(Int(Obj(ack, "message"), "seq"), Int(Obj(acks[0], "message"), "seq"));
  }
  auto hist = History(a, conv);
  ASSERT_EQ(hist.size(), 3u);
  EXPECT_EQ(Int(hist[2], "seq"), 3);
}

TEST_F(E2eTest, ConcurrentSendersGetSeqOneToNWithoutGaps) {
  constexpr int kSenders = 6, kEach = 40;
  User owner = NewUser();
  std::vector<User> users;
  for (int i = 0; i < kSenders; ++i) users.push_back(NewUser());
  std::vector<const User*> members;
  for (auto& u : users) members.push_back(&u);
  const std::string g = Group(owner, members);
  auto watcher = Connect(owner);
  std::vector<std::unique_ptr<BlockingWs>> conns;
  for (auto& u : users) conns.push_back(Connect(u));
  // Everyone fires all their messages at once (pipelined), over WebSocket and HTTP.
  for (int k = 0; k < kEach; ++k) {
    for (int s = 0; s < kSenders; ++s) {
      ASSERT_TRUE(conns[static_cast<std::size_t>(s)]
                      ->Send(WsClient::MessageSendFrame(
                          g, "c" + std::to_string(s) + "-" + std::to_string(k), "m"))
                      .ok());
    }
  }
  int http_done = 0;
  for (int s = 0; s < kSenders; ++s) {
    for (int k = 0; k < 5; ++k) {
      boost::asio::co_spawn(
          io_,
          [&, s, k]() -> Task<void> {
            auto r = co_await users[static_cast<std::size_t>(s)].api->async().SendText(
                g, "h" + std::to_string(s) + "-" + std::to_string(k), "h");
            if (r && r->status == 201) ++http_done;
          },
          boost::asio::detached);
    }
  }
  constexpr int kTotal = kSenders * (kEach + 5);
  std::set<std::int64_t> live;
  client::RunUntil(
      io_, [&] { return http_done == kSenders * 5; }, 30s);
  EXPECT_EQ(http_done, kSenders * 5);
  for (int i = 0; i < kTotal * 2 && static_cast<int>(live.size()) < kTotal; ++i) {
    auto e = watcher->NextOfType("message.new", 5s);
    if (!e) break;
    EXPECT_TRUE(live.insert(Int(Obj(*e, "message"), "seq")).second) << "duplicate delivery";
  }
  EXPECT_EQ(static_cast<int>(live.size()), kTotal);
  for (const auto& e : watcher->CollectFor(300ms)) {
    EXPECT_NE(Str(e, "type"), "message.new") << "more deliveries than messages";
  }
  for (std::size_t s = 0; s < conns.size(); ++s) {
    EXPECT_EQ(conns[s]->CollectType("ack", 200ms).size(), static_cast<std::size_t>(kEach));
  }
  std::vector<std::int64_t> seqs;
  std::optional<std::int64_t> after = 0;
  for (;;) {
    auto r = owner.api->Run(owner.api->async().History(g, std::nullopt, after, 200));
    ASSERT_EQ(r.status, 200);
    for (const auto& m : Arr(r.object(), "messages")) seqs.push_back(Int(m.get_object(), "seq"));
    if (!r.object().at("has_more").as_bool()) break;
    after = seqs.back();
  }
  ASSERT_EQ(static_cast<int>(seqs.size()), kTotal);
  for (int i = 0; i < kTotal; ++i) EXPECT_EQ(seqs[static_cast<std::size_t>(i)], i + 1);
  auto conv = owner.api->Run(owner.api->async().GetConversation(g));
  EXPECT_EQ(Int(conv.object(), "last_seq"), kTotal);
}

TEST_F(E2eTest, HistoryPagesBeforeAndAfter) {
  User a = NewUser(), b = NewUser();
  const std::string conv = Direct(a, b);
  for (int i = 1; i <= 25; ++i) ASSERT_EQ(SendText(a, conv, "m" + std::to_string(i)).status, 201);
  auto latest = a.api->Run(a.api->async().History(conv, std::nullopt, std::nullopt, 10));
  ASSERT_EQ(latest.status, 200);
  const auto& l = Arr(latest.object(), "messages");
  ASSERT_EQ(l.size(), 10u);
  EXPECT_EQ(Int(l[0].get_object(), "seq"), 16);
  EXPECT_EQ(Int(l[9].get_object(), "seq"), 25);
  EXPECT_TRUE(latest.object().at("has_more").as_bool());
  auto before = a.api->Run(a.api->async().History(conv, 6, std::nullopt, 10));
  const auto& bl = Arr(before.object(), "messages");
  ASSERT_EQ(bl.size(), 5u);
  EXPECT_EQ(Int(bl[0].get_object(), "seq"), 1);
  EXPECT_FALSE(before.object().at("has_more").as_bool());
  auto after = a.api->Run(a.api->async().History(conv, std::nullopt, 20, 10));
  const auto& al = Arr(after.object(), "messages");
  ASSERT_EQ(al.size(), 5u);
  EXPECT_EQ(Int(al[0].get_object(), "seq"), 21);
  EXPECT_FALSE(after.object().at("has_more").as_bool());
  auto window = a.api->Run(a.api->async().History(conv, 10, 3, 50));
  const auto& wl = Arr(window.object(), "messages");
  ASSERT_EQ(wl.size(), 6u);
  EXPECT_EQ(Int(wl[0].get_object(), "seq"), 4);
  EXPECT_EQ(a.api->Call("GET", "/v1/conversations/" + conv + "/messages?before_seq=x").status, 400);
  EXPECT_EQ(a.api->Call("GET", "/v1/conversations/" + conv + "/messages?limit=1000").status, 400);
  // Replies name an existing message.
  auto reply = a.api->Run(a.api->async().SendText(conv, "reply-1", "re", 3));
  ASSERT_EQ(reply.status, 201);
  EXPECT_EQ(Int(reply.object(), "reply_to_seq"), 3);
  EXPECT_EQ(a.api->Run(a.api->async().SendText(conv, "reply-2", "re", 999)).status, 400);
}

TEST_F(E2eTest, EditsDeletesReactionsReadsAndTypingArriveAsEvents) {
  User a = NewUser(), b = NewUser(), c = NewUser();
  const std::string g = Group(a, {&b, &c});
  ASSERT_EQ(SendText(b, g, "first").status, 201);   // seq 1
  ASSERT_EQ(SendText(b, g, "second").status, 201);  // seq 2
  auto wa = Connect(a), wc = Connect(c);

  // Edit: only the sender.
  EXPECT_EQ(a.api->Run(a.api->async().EditMessage(g, 1, "hijack")).status, 403);
  auto edited = b.api->Run(b.api->async().EditMessage(g, 1, "first (edited)"));
  ASSERT_EQ(edited.status, 200) << edited.raw;
  EXPECT_FALSE(edited.object().at("edited_at").is_null());
  auto upd = wc->NextOfType("message.updated", 5s);
  ASSERT_TRUE(upd);
  EXPECT_EQ(Str(Obj(*upd, "message"), "body"), "first (edited)");

  // Reactions: add, add again (no change), remove.
  auto r1 = c.api->Run(c.api->async().React(g, 1, "👍"));
  ASSERT_EQ(r1.status, 200) << r1.raw;
  EXPECT_EQ(Obj(r1.object(), "reactions").at("👍").as_array().size(), 1u);
  auto rev = wa->NextOfType("reaction", 5s);
  ASSERT_TRUE(rev);
  EXPECT_EQ(Str(Obj(*rev, "reaction"), "emoji"), "👍");
  EXPECT_EQ(Str(Obj(*rev, "reaction"), "user_id"), c.id);
  EXPECT_EQ(c.api->Run(c.api->async().React(g, 1, "👍")).status, 200);
  auto r2 = c.api->Run(c.api->async().React(g, 1, "👍", false));
  ASSERT_EQ(r2.status, 200);
  EXPECT_TRUE(Obj(r2.object(), "reactions").empty());
  auto reactions = wa->CollectType("reaction", 500ms);
  ASSERT_EQ(reactions.size(), 1u);  // the repeated PUT changed nothing
  EXPECT_FALSE(Obj(reactions[0], "reaction").at("added").as_bool());
  EXPECT_EQ(c.api->Run(c.api->async().React(g, 1, "way too long for a reaction")).status, 400);
  EXPECT_EQ(c.api->Run(c.api->async().React(g, 99, "👍")).status, 404);

  // Delete: the sender or an admin; a tombstone stays.
  EXPECT_EQ(c.api->Run(c.api->async().DeleteMessage(g, 2)).status, 403);
  auto del = a.api->Run(a.api->async().DeleteMessage(g, 2));  // the owner is an admin
  ASSERT_EQ(del.status, 200) << del.raw;
  EXPECT_TRUE(del.object().at("deleted").as_bool());
  auto dev = wc->NextOfType("message.deleted", 5s);
  ASSERT_TRUE(dev);
  EXPECT_EQ(Int(Obj(*dev, "message"), "seq"), 2);
  auto hist = History(c, g);
  ASSERT_EQ(hist.size(), 2u);
  EXPECT_TRUE(hist[1].at("deleted").as_bool());
  EXPECT_EQ(Str(hist[1], "body"), "");
  EXPECT_EQ(b.api->Run(b.api->async().EditMessage(g, 2, "undelete")).status, 422);
  EXPECT_EQ(c.api->Run(c.api->async().React(g, 2, "👍")).status, 422);

  // Read receipts and unread counts.
  auto before = c.api->Run(c.api->async().GetConversation(g));
  EXPECT_EQ(Int(before.object(), "unread_count"), 2);
  EXPECT_EQ(c.api->Run(c.api->async().MarkRead(g, 1)).status, 204);
  auto read = wa->NextOfType("read", 5s);
  ASSERT_TRUE(read);
  EXPECT_EQ(Str(Obj(*read, "read"), "user_id"), c.id);
  EXPECT_EQ(Int(Obj(*read, "read"), "seq"), 1);
  auto after = c.api->Run(c.api->async().GetConversation(g));
  EXPECT_EQ(Int(after.object(), "unread_count"), 1);
  EXPECT_EQ(c.api->Run(c.api->async().MarkRead(g, 1000)).status, 204);  // clamped to last_seq
  auto all_read = c.api->Run(c.api->async().GetConversation(g));
  EXPECT_EQ(Int(all_read.object(), "unread_count"), 0);
  for (const auto& m : Arr(all_read.object(), "members")) {
    if (Str(m.get_object(), "user_id") == c.id) {
      EXPECT_EQ(Int(m.get_object(), "last_read_seq"), 2);
    }
  }

  // Typing: to the other members, not back to the typist.
  EXPECT_EQ(c.api->Run(c.api->async().Typing(g)).status, 204);
  auto typing = wa->NextOfType("typing", 5s);
  ASSERT_TRUE(typing);
  EXPECT_EQ(Str(Obj(*typing, "typing"), "user_id"), c.id);
  ASSERT_TRUE(wa->Send(WsClient::TypingFrame(g)).ok());
  EXPECT_TRUE(wc->NextOfType("typing", 5s));
  EXPECT_TRUE(wa->CollectType("typing", 300ms).empty());
}

TEST_F(E2eTest, MessageTypesAreValidated) {
  User a = NewUser(), b = NewUser();
  const std::string conv = Direct(a, b);
  auto send = [&](json::object m) { return a.api->Run(a.api->async().SendMessage(conv, m)); };
  auto image =
      send(json::object{{"client_msg_id", "img-1"},
                        {"type", "image"},
                        {"body", "a cat"},
                        {"attachment", json::object{{"url", "https://cdn.example.com/cat.png"},
                                                    {"mime_type", "image/png"},
                                                    {"width", 640},
                                                    {"height", 480}}}});
  ASSERT_EQ(image.status, 201) << image.raw;
  EXPECT_EQ(Str(Obj(image.object(), "attachment"), "url"), "https://cdn.example.com/cat.png");
  auto file = send(json::object{
      {"client_msg_id", "file-1"},
      {"type", "file"},
      {"attachment",
       json::object{{"url", "https://cdn.example.com/a.pdf"}, {"name", "a.pdf"}, {"size", 1234}}}});
  ASSERT_EQ(file.status, 201) << file.raw;
  const std::vector<json::object> bad = {
      {{"client_msg_id", "b1"}, {"type", "text"}, {"body", ""}},
      {{"client_msg_id", "b2"}, {"type", "text"}, {"body", std::string(4097, 'x')}},
      {{"client_msg_id", "b3"}, {"type", "text"}, {"body", 42}},
      {{"client_msg_id", "b4"}, {"type", "payment"}, {"body", "fake money"}},
      {{"client_msg_id", "b5"}, {"type", "system"}, {"body", "fake"}},
      {{"client_msg_id", "b6"}, {"type", "video"}, {"body", "x"}},
      {{"client_msg_id", "b7"},
       {"type", "image"},
       {"attachment", json::object{{"url", "ftp://x/y"}}}},
      {{"client_msg_id", "b8"},
       {"type", "image"},
       {"attachment", json::object{{"url", "javascript:alert(1)"}}}},
      {{"client_msg_id", "b9"},
       {"type", "file"},
       {"attachment", json::object{{"url", "https://x.y/z"}}}},
      {{"client_msg_id", "b10"}, {"type", "image"}},
      {{"type", "text"}, {"body", "no client_msg_id"}},
      {{"client_msg_id", ""}, {"type", "text"}, {"body", "empty id"}},
      {{"client_msg_id", "b13"}, {"type", "text"}, {"body", "x"}, {"reply_to_seq", -1}},
      {{"client_msg_id", "b14"}, {"type", "text"}, {"body", std::string("nul\0byte", 8)}},
  };
  for (const auto& m : bad) {
    auto r = send(m);
    EXPECT_EQ(r.status, 400) << ToJson(m) << " -> " << r.raw;
    EXPECT_EQ(r.error_code(), "invalid_argument");
  }
  // 4096 characters (not bytes) is the limit: 4096 Thai characters are 12288 bytes.
  std::string thai;
  for (int i = 0; i < 4096; ++i) thai += "ก";
  EXPECT_EQ(send(json::object{{"client_msg_id", "thai"}, {"type", "text"}, {"body", thai}}).status,
            201);
  // Raw bodies: not JSON, invalid UTF-8, too large.
  const std::string path = "/v1/conversations/" + conv + "/messages";
  EXPECT_EQ(a.api->Raw("POST", path, "{not json").status, 400);
  EXPECT_EQ(a.api->Raw("POST", path, "[1,2]").status, 400);
  EXPECT_EQ(a.api
                ->Raw("POST", path,
                      "{\"client_msg_id\":\"u1\",\"type\":\"text\",\"body\":\"bad \xff\xfe\"}")
                .status,
            400);
  EXPECT_EQ(
      a.api->Raw("POST", path, "{\"client_msg_id\":\"u2\",\"type\":\"text\",\"body\":\"\\ud800\"}")
          .status,
      400);
  const std::string huge = "{\"client_msg_id\":\"big\",\"type\":\"text\",\"body\":\"" +
                           std::string(2 << 20, 'x') + "\"}";
  EXPECT_EQ(a.api->Raw("POST", path, huge).status, 413);
  // Nothing of that was stored.
  auto hist = History(a, conv);
  EXPECT_EQ(hist.size(), 3u);
}

TEST_F(E2eTest, BadWebSocketInputIsAnsweredAndTheConnectionStaysUsable) {
  User a = NewUser(), b = NewUser();
  const std::string conv = Direct(a, b);
  auto ws = Connect(a);
  const std::vector<std::string> frames = {
      "not json",
      "[1,2,3]",
      R"({"no_type":true})",
      R"({"type":"launch.missiles"})",
      R"({"type":"message.send","conversation_id":")" + conv + R"("})",
      R"({"type":"message.send","conversation_id":")" + conv +
          R"(","message":{"client_msg_id":"bad-1","type":"text","body":""}})",
      R"({"type":"message.send","message":{"client_msg_id":"bad-2","type":"text","body":"x"}})",
      R"({"type":"typing"})",
  };
  for (const auto& f : frames) {
    ASSERT_TRUE(ws->Send(f).ok());
    auto err = ws->NextOfType("error", 5s);
    ASSERT_TRUE(err) << f;
    EXPECT_EQ(Str(Obj(*err, "error"), "code"), "invalid_argument") << f;
  }
  ASSERT_TRUE(ws->Send(WsClient::MessageSendFrame(conv, "bad-3", std::string(4097, 'y'))).ok());
  auto err = ws->NextOfType("error", 5s);
  ASSERT_TRUE(err);
  EXPECT_EQ(Str(*err, "client_msg_id"), "bad-3");
  // Still usable.
  ASSERT_TRUE(ws->Send(WsClient::MessageSendFrame(conv, "good-1", "fine")).ok());
  auto ack = ws->NextOfType("ack", 5s);
  ASSERT_TRUE(ack);
  EXPECT_EQ(Int(Obj(*ack, "message"), "seq"), 1);

  // A frame over 64 KiB closes the connection (1009); invalid UTF-8 too (1007).
  auto big = Connect(a);
  ASSERT_TRUE(big->Send(WsClient::MessageSendFrame(conv, "huge", std::string(70000, 'z'))).ok());
  EXPECT_TRUE(big->WaitClosed(5s));
  EXPECT_EQ(big->close_code(), 1009);
  auto bad_utf8 = Connect(a);
  (void)bad_utf8->Send("{\"type\":\"ping\",\"x\":\"\xff\xfe\"}");
  EXPECT_TRUE(bad_utf8->WaitClosed(5s));
  EXPECT_EQ(bad_utf8->close_code(), 1007);
  auto hist = History(a, conv);
  ASSERT_EQ(hist.size(), 1u);
  EXPECT_EQ(Str(hist[0], "client_msg_id"), "good-1");
  // A bad token never gets a WebSocket.
  BlockingWs anon(io_);
  EXPECT_FALSE(anon.Connect(url_, "not-a-token").ok());
}

TEST_F(E2eTest, ASlowConsumerIsDisconnectedInsteadOfBufferingWithoutLimit) {
  User a = NewUser(), b = NewUser();
  const std::string conv = Direct(a, b);
  // b connects and never reads.
  WsClient slow(io_.get_executor());
  ASSERT_TRUE(client::RunSync(io_, slow.Connect(url_, b.token)).ok());
  auto wa = Connect(a);
  auto metric = [&] {
    auto r = a.api->Call("GET", "/metrics");
    const std::string key = "\nmessaging_ws_slow_consumer_disconnects_total ";
    const auto pos = r.raw.find(key);
    return pos == std::string::npos ? -1.0 : std::stod(r.raw.substr(pos + key.size()));
  };
  const double before = metric();
  // ~4 KiB per event: the server's queue (4 MiB / 1024 frames) plus the socket
  // buffers fill after a few thousand.
  const std::string body(4000, 'q');
  constexpr int kMessages = 6000;
  int acks = 0;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(wa->Send(WsClient::MessageSendFrame(conv, "slow-" + std::to_string(i), body)).ok());
    while (wa->NextOfType("ack", 0ms)) ++acks;
    if (i % 250 == 0 && metric() > before) break;
  }
  client::RunUntil(
      io_,
      [&] {
        while (wa->NextOfType("ack", 0ms)) ++acks;
        return metric() > before;
      },
      30s);
  EXPECT_GT(metric(), before) << "the slow consumer was never dropped";
  // The slow connection ends: reading drains what the kernel held, then fails.
  int read = 0;
  bool ended = false;
  for (int i = 0; i < kMessages + 10; ++i) {
    auto frame = client::RunSync(io_, slow.ReadText());
    if (!frame) {
      ended = true;
      break;
    }
    ++read;
  }
  EXPECT_TRUE(ended);
  EXPECT_LT(read, kMessages);
  // The sender was not affected: its pong comes after the acks still queued for
  // it, which the ASan services take longer than 10 s to send on a loaded machine.
  ASSERT_TRUE(wa->Send(WsClient::PingFrame()).ok());
  EXPECT_TRUE(wa->NextOfType("pong", 30s));
}

// Writes `frames` in order, one after another; *written counts those written.
Task<void> WriteAll(WsClient& ws, std::vector<std::string> frames, int* written) {
  for (const auto& f : frames) {
    if (!co_await ws.WriteText(f)) co_return;
    ++*written;
  }
}

TEST_F(E2eTest, AClientThatSendsWithoutReadingIsReadMoreSlowlyNotDropped) {
  User a = NewUser(), b = NewUser();
  const std::string conv = Direct(a, b);
  // a pipelines more sends than its queue holds answers for (1,024 frames) and
  // reads nothing for a second: the server must stop reading a's frames rather
  // than queue acks until a counts as a slow consumer.
  // 24 MB of acks: far more than the server's queue (4 MiB) and its send
  // buffer hold.
  constexpr int kMessages = 6000;
  const std::string body(4000, 'p');
  std::vector<std::string> frames;
  for (int i = 0; i < kMessages; ++i) {
    frames.push_back(WsClient::MessageSendFrame(conv, "pipe-" + std::to_string(i), body));
  }
  WsClient ws(io_.get_executor());
  ASSERT_TRUE(client::RunSync(io_, ws.Connect(url_, a.token)).ok());
  int written = 0;
  boost::asio::co_spawn(io_, WriteAll(ws, std::move(frames), &written), boost::asio::detached);
  // (Whether the client's writes stall meanwhile depends on how far the
  // kernel grew the server's receive buffer: up to tcp_rmem's maximum, 32 MB
  // here. The acks have no such room: a socket that is not read does not grow.)
  client::RunUntil(
      io_, [] { return false; }, 1s);
  std::set<std::string> acked;
  while (acked.size() < kMessages) {
    auto text = client::RunSync(io_, ws.ReadText());
    ASSERT_TRUE(text.ok()) << "dropped after " << acked.size() << " acks";
    auto v = json::parse(*text).as_object();
    if (Str(v, "type") == "ack") acked.insert(Str(v, "client_msg_id"));
  }
  EXPECT_EQ(written, kMessages);
  auto last = History(b, conv, 1);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(Int(last[0], "seq"), kMessages);
  client::RunSync(io_, ws.Close());
}

TEST_F(E2eTest, BlockedUserCannotMessageTheBlockerDirectly) {
  User a = NewUser(), b = NewUser(), c = NewUser();
  const std::string dm = Direct(a, b);
  const std::string g = Group(a, {&b, &c});
  ASSERT_EQ(a.api->Run(a.api->async().Block(b.id)).status, 204);
  auto blocks = a.api->Call("GET", "/v1/blocks");
  ASSERT_EQ(blocks.status, 200);
  EXPECT_EQ(Arr(blocks.object(), "blocked_user_ids").size(), 1u);
  auto refused = SendText(b, dm, "please");
  EXPECT_EQ(refused.status, 403) << refused.raw;
  EXPECT_EQ(SendText(a, dm, "the blocker may still write").status, 201);
  EXPECT_EQ(SendText(b, g, "groups are not direct").status, 201);
  EXPECT_EQ(a.api->Run(a.api->async().Block(a.id)).status, 400);
  EXPECT_EQ(a.api->Call("POST", "/v1/blocks", json::object{{"user_id", "nope"}}).status, 400);
  ASSERT_EQ(a.api->Run(a.api->async().Unblock(b.id)).status, 204);
  EXPECT_EQ(SendText(b, dm, "thanks").status, 201);
}

// ---------------------------------------------------------------------------
// Sync and presence
// ---------------------------------------------------------------------------

TEST_F(E2eTest, SyncReturnsEachChangeOnceAndNothingTwice) {
  User a = NewUser(), b = NewUser(), c = NewUser();
  const std::string dm = Direct(a, b);
  const std::string g = Group(b, {&a, &c});
  auto full = a.api->Run(a.api->async().Sync());
  ASSERT_EQ(full.status, 200) << full.raw;
  EXPECT_TRUE(full.object().at("full").as_bool());
  EXPECT_EQ(Arr(full.object(), "conversations").size(), 2u);
  const std::string t0 = Str(full.object(), "token");
  ASSERT_FALSE(t0.empty());

  ASSERT_EQ(SendText(b, dm, "one").status, 201);
  ASSERT_EQ(SendText(b, dm, "two").status, 201);
  ASSERT_EQ(SendText(b, dm, "three").status, 201);
  ASSERT_EQ(b.api->Run(b.api->async().EditMessage(dm, 2, "two!")).status, 200);
  auto s1 = a.api->Run(a.api->async().Sync(t0));
  ASSERT_EQ(s1.status, 200) << s1.raw;
  EXPECT_FALSE(s1.object().at("full").as_bool());
  const auto& convs = Arr(s1.object(), "conversations");
  ASSERT_EQ(convs.size(), 1u);
  EXPECT_EQ(Str(convs[0].get_object(), "id"), dm);
  const auto& msgs = Arr(s1.object(), "messages");
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(Str(msgs[1].get_object(), "body"), "two!");
  const std::string t1 = Str(s1.object(), "token");

  auto s2 = a.api->Run(a.api->async().Sync(t1));
  ASSERT_EQ(s2.status, 200);
  EXPECT_TRUE(Arr(s2.object(), "conversations").empty());
  EXPECT_TRUE(Arr(s2.object(), "messages").empty());

  // Removal shows up as removed_conversation_ids.
  ASSERT_EQ(b.api->Run(b.api->async().RemoveMember(g, a.id)).status, 204);
  ASSERT_EQ(b.api->Run(b.api->async().DeleteMessage(dm, 3)).status, 200);
  auto s3 = a.api->Run(a.api->async().Sync(Str(s2.object(), "token")));
  ASSERT_EQ(s3.status, 200);
  const auto& removed = Arr(s3.object(), "removed_conversation_ids");
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].as_string(), g);
  const auto& m3 = Arr(s3.object(), "messages");
  ASSERT_EQ(m3.size(), 1u);
  EXPECT_TRUE(m3[0].get_object().at("deleted").as_bool());

  EXPECT_EQ(a.api->Call("GET", "/v1/sync?since=garbage").status, 400);
  EXPECT_EQ(a.api->Call("GET", "/v1/sync?since=s1.AAAA").status, 400);
}

TEST_F(E2eTest, PresenceFollowsTheWebSocket) {
  User a = NewUser(), b = NewUser();
  (void)Direct(a, b);
  auto before = b.api->Run(b.api->async().Presence({a.id}));
  ASSERT_EQ(before.status, 200) << before.raw;
  const auto& p0 = Arr(before.object(), "presence");
  ASSERT_EQ(p0.size(), 1u);
  EXPECT_FALSE(p0[0].get_object().at("online").as_bool());
  EXPECT_TRUE(p0[0].get_object().at("last_seen_at").is_null());

  auto wb = Connect(b);
  auto wa = Connect(a);
  auto on = wb->NextOfType("presence", 5s);
  ASSERT_TRUE(on);
  EXPECT_EQ(Str(Obj(*on, "presence"), "user_id"), a.id);
  EXPECT_TRUE(Obj(*on, "presence").at("online").as_bool());
  auto now = b.api->Run(b.api->async().Presence({a.id}));
  EXPECT_TRUE(Arr(now.object(), "presence")[0].get_object().at("online").as_bool());

  wa->Close();
  auto off = wb->NextOfType("presence", 5s);
  ASSERT_TRUE(off);
  EXPECT_FALSE(Obj(*off, "presence").at("online").as_bool());
  auto after = b.api->Run(b.api->async().Presence({a.id}));
  const auto& p2 = Arr(after.object(), "presence")[0].get_object();
  EXPECT_FALSE(p2.at("online").as_bool());
  EXPECT_TRUE(p2.at("last_seen_at").is_string());
  EXPECT_EQ(b.api->Call("GET", "/v1/presence").status, 400);
  EXPECT_EQ(b.api->Call("GET", "/v1/presence?user_ids=bad").status, 400);
}

// ---------------------------------------------------------------------------
// Events between services (need the service's Redis)
// ---------------------------------------------------------------------------

class EventsTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    redis_url_ = RequireEnv("TCHAT_TEST_REDIS_URL");
    redis::RedisOptions o;
    o.url = redis_url_;
    o.pool_size = 2;
    o.min_idle = 0;
    redis_ = std::make_unique<redis::RedisClient>(io_.get_executor(), o);
  }
  void TearDown() override {
    if (redis_) redis_->Close();
  }
  std::string redis_url_;
  std::unique_ptr<redis::RedisClient> redis_;
};

TEST_F(EventsTest, MessageCreatedGoesToTheMessagingStream) {
  User a = NewUser(), b = NewUser();
  const std::string conv = Direct(a, b);
  auto sent = SendText(a, conv, "notify b please");
  ASSERT_EQ(sent.status, 201);
  const std::string message_id = Str(sent.object(), "id");
  bool found = false;
  client::RunUntil(
      io_,
      [&] {
        auto r = client::RunSync(
            io_, redis_->Command("XREVRANGE", events::kMessagingStream, "+", "-", "COUNT", "200"));
        if (!r) return false;
        auto entries = redis::ParseStreamEntries(std::move(*r));
        if (!entries) return false;
        for (const auto& e : *entries) {
          const std::string* ev = e.Field("event");
          if (ev == nullptr) continue;
          auto env = ParseJsonObject(*ev);
          if (!env || Str(*env, "type") != "message.created") continue;
          const auto& data = Obj(*env, "data");
          if (Str(data, "message_id") != message_id) continue;
          EXPECT_EQ(Str(data, "conversation_id"), conv);
          EXPECT_EQ(Str(data, "sender_id"), a.id);
          EXPECT_EQ(Str(data, "preview"), "notify b please");
          const auto& rec = Arr(data, "recipients");
          EXPECT_EQ(rec.size(), 1u);
          if (!rec.empty()) {
            EXPECT_EQ(rec[0].as_string(), b.id);
          }
          found = true;
        }
        return found;
      },
      10s);
  EXPECT_TRUE(found) << "message.created not relayed to tchat.events.messaging";
}

TEST_F(EventsTest, PaymentEventsBecomePaymentMessagesOnce) {
  User a = NewUser(), b = NewUser();
  const std::string conv = Direct(a, b);
  auto wb = Connect(b);
  const std::string transfer_id = NewUuidV7();
  const std::string event_id = NewUuidV7();
  const std::string envelope =
      ToJson(json::object{{"id", event_id},
                          {"type", "payment.transfer.completed"},
                          {"occurred_at", "2026-01-01T00:00:00.000Z"},
                          {"data", json::object{{"id", transfer_id},
                                                {"kind", "transfer"},
                                                {"from_user_id", a.id},
                                                {"to_user_id", b.id},
                                                {"amount", 12345},
                                                {"currency", "THB"},
                                                {"note", "dinner"},
                                                {"conversation_id", conv},
                                                {"status", "completed"},
                                                {"payment_request_id", nullptr}}}});
  // Delivered twice (at-least-once upstream): one message.
  for (int i = 0; i < 2; ++i) {
    auto r = client::RunSync(
        io_, redis_->Command("XADD", events::kPaymentStream, "*", "id", event_id, "type",
                             "payment.transfer.completed", "event", envelope));
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  auto ev = wb->NextOfType("message.new", 15s);
  ASSERT_TRUE(ev) << "no payment message";
  const auto& m = Obj(*ev, "message");
  EXPECT_EQ(Str(m, "type"), "payment");
  EXPECT_EQ(Str(m, "sender_id"), a.id);
  EXPECT_EQ(Str(Obj(m, "payment"), "transfer_id"), transfer_id);
  EXPECT_EQ(Int(Obj(m, "payment"), "amount"), 12345);
  EXPECT_EQ(Str(Obj(m, "payment"), "currency"), "THB");
  EXPECT_TRUE(wb->CollectType("message.new", 1500ms).empty());
  auto hist = History(a, conv);
  ASSERT_EQ(hist.size(), 1u);
  EXPECT_EQ(Str(hist[0], "type"), "payment");
}

}  // namespace
}  // namespace tchat::e2e
