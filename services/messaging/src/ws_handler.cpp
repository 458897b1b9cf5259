#include "ws_handler.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include <tchat/core/http/websocket.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/jwt/token_verifier.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>
#include <tchat/core/worker.hpp>

#include "messaging_worker.hpp"
#include "model_json.hpp"
#include "session_guard.hpp"
#include "validation.hpp"

namespace tchat::messaging {

namespace {

void SendError(WsSession& s, std::string_view client_msg_id, const Error& e) {
  s.Send(ErrorEvent(client_msg_id, e.WireCode(), e.message,
                    e.retry_after ? std::max<std::int64_t>(1, e.retry_after->count()) : 0));
}

std::int64_t UnixMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// {"type":"auth","access_token":"..."}: renews the socket's credentials with a
// fresh token of the same user, answered by auth.ok (or error; the socket keeps
// its old credentials and closes when they end).
void Reauthenticate(MessagingWorker& mw, WsSession& session, const json::object& frame) {
  const std::string_view token = StringValue(frame, "access_token");
  if (token.empty()) {
    SendError(session, {}, Error::InvalidArgument("access_token is required"));
    return;
  }
  if (!mw.verifier) {
    SendError(session, {}, Error::Unauthenticated("token verification is not configured"));
    return;
  }
  auto p = mw.verifier->Verify(token);
  if (!p) {
    SendError(session, {}, p.error());
    return;
  }
  auto subject = CanonicalUuid(p->user_id);
  if (!subject || *subject != session.user_id()) {
    SendError(session, {}, Error::PermissionDenied("the token is another user's"));
    return;
  }
  if (mw.guard->IsRevoked(p->session_id)) {
    SendError(session, {}, Error::Unauthenticated("the session has been revoked; sign in again"));
    return;
  }
  session.SetCredentials(p->session_id, p->expires_at);
  session.Send(ToJson(
      json::object{{"type", "auth.ok"}, {"expires_at", FormatRfc3339Ms(UnixMs(p->expires_at))}}));
}

// message.send: validated, counted against the user's limit, then committed
// without blocking the reader; answered by ack or error.
Task<void> HandleSend(MessagingWorker& mw, const std::shared_ptr<WsSession>& session,
                      const json::object& frame) {
  const std::string& user = session->user_id();
  const json::value* msg = frame.if_contains("message");
  std::string cmid;
  if (msg != nullptr && msg->is_object()) cmid = StringValue(msg->get_object(), "client_msg_id");
  if (cmid.size() > 128) cmid.clear();
  const std::string conv(StringValue(frame, "conversation_id"));
  if (conv.empty()) {
    SendError(*session, cmid, Error::InvalidArgument("conversation_id is required"));
    co_return;
  }
  if (msg == nullptr || !msg->is_object()) {
    SendError(*session, cmid, Error::InvalidArgument("message must be an object"));
    co_return;
  }
  auto input = ParseMessageInput(msg->get_object());
  if (!input) {
    SendError(*session, cmid, input.error());
    co_return;
  }
  if (Status st = co_await mw.service->AdmitMessage(user); !st) {
    SendError(*session, cmid, st.error());
    co_return;
  }
  if (Status st = co_await mw.media->ResolveAttachment(user, *input); !st) {
    SendError(*session, cmid, st.error());
    co_return;
  }
  co_await session->WaitForSendSlot();
  if (session->closing()) co_return;
  session->SendStarted();
  mw.service->SubmitSend(user, conv, std::move(*input), session->id(),
                         [session, cmid](Result<SendResult> r) {
                           if (r) {
                             session->Send(AckEvent(r->message));
                           } else {
                             SendError(*session, cmid, r.error());
                           }
                           session->SendDone();
                         });
}

Task<void> HandleFrame(MessagingWorker& mw, const std::shared_ptr<WsSession>& session,
                       const std::string& text) {
  auto parsed = ParseJsonObject(text);
  if (!parsed) {
    SendError(*session, {}, parsed.error());
    co_return;
  }
  const json::object& frame = *parsed;
  const json::value* type_v = frame.if_contains("type");
  if (type_v == nullptr || !type_v->is_string()) {
    SendError(*session, {}, Error::InvalidArgument("type is required"));
    co_return;
  }
  const std::string_view type = type_v->get_string();
  const std::string& user = session->user_id();
  if (type == "ping") {
    session->Send(R"({"type":"pong"})");
    co_return;
  }
  if (type == "auth") {
    Reauthenticate(mw, *session, frame);
    co_return;
  }
  if (type == "message.send") {
    co_await HandleSend(mw, session, frame);
    co_return;
  }
  if (type == "typing") {
    const std::string conv(StringValue(frame, "conversation_id"));
    if (conv.empty()) {
      SendError(*session, {}, Error::InvalidArgument("conversation_id is required"));
      co_return;
    }
    auto st = co_await mw.service->Typing(user, conv);
    if (!st) SendError(*session, {}, st.error());
    co_return;
  }
  if (type == "read") {
    const std::string conv(StringValue(frame, "conversation_id"));
    auto seq = RequireInt(frame, "seq");
    if (conv.empty() || !seq || *seq < 0) {
      SendError(*session, {},
                Error::InvalidArgument("read needs conversation_id and a non-negative seq"));
      co_return;
    }
    auto st = co_await mw.service->MarkRead(user, conv, *seq);
    if (!st) SendError(*session, {}, st.error());
    co_return;
  }
  SendError(*session, {}, Error::InvalidArgument("unknown event type"));
}

// The users `user` blocked: they are not told of the user's presence.
Task<std::vector<std::string>> HiddenFrom(MessagingWorker& mw, const std::string& user) {
  auto blocked = co_await mw.conversations->Blocked(user);
  co_return blocked ? std::move(*blocked) : std::vector<std::string>{};
}

// Refuses a socket before it is attached (true): its session was revoked, or the
// user opens sockets too fast.
Task<bool> Refused(MessagingWorker& mw, http::Request& req, http::WebSocket& ws,
                   const std::string& user) {
  if (req.auth && mw.guard->IsRevoked(req.auth->session_id)) {
    co_await ws.Close(kCloseCredentialsEnded, "session revoked");
    co_return true;
  }
  if (Status st = co_await mw.limits->Admit(UserLimits::Kind::kConnection, user); !st) {
    const Error& e = st.error();
    const std::int64_t retry =
        e.retry_after ? std::max<std::int64_t>(1, e.retry_after->count()) : 1;
    (void)co_await ws.Write(ErrorEvent({}, e.WireCode(), e.message, retry));
    co_await ws.Close(kCloseRateLimited, "too many connections");
    co_return true;
  }
  co_return false;
}

}  // namespace

Task<void> HandleWebSocket(http::Request& req, http::WebSocket& ws) {
  auto& mw = req.worker->Get<MessagingWorker>();
  auto user = http::CallerId(req);
  if (!user) {
    co_await ws.Close(1008, user.error().message);
    co_return;
  }
  if (co_await Refused(mw, req, ws, *user)) co_return;
  auto convs = co_await mw.conversations->ConversationIds(*user);
  if (!convs) {
    log::Warn("websocket refused", {{"user_id", *user}, {"error", convs.error().message}});
    co_await ws.Close(1011, "temporarily unavailable");
    co_return;
  }
  auto session = std::make_shared<WsSession>(ws, req.worker->io().get_executor(), *user,
                                             mw.NextSessionId(), mw.config.session);
  if (req.auth) session->SetCredentials(req.auth->session_id, req.auth->expires_at);
  const bool first_here = co_await mw.hub->Attach(session, *convs);
  session->Send(ToJson(json::object{{"type", "ready"}, {"session_id", session->id()}}));
  if (first_here) co_await mw.presence->Online(*user, *convs, co_await HiddenFrom(mw, *user));
  while (!session->closing()) {
    if (!session->HasRoom()) {
      co_await session->WaitForRoom();
      if (session->closing()) break;
    }
    auto text = co_await ws.Read();
    if (!text) {
      if (text.error().code == ErrorCode::kInvalidArgument) {  // a binary frame
        SendError(*session, {}, text.error());
        continue;
      }
      break;
    }
    co_await HandleFrame(mw, session, *text);
  }
  if (auto last = mw.hub->Detach(session)) {
    co_await mw.presence->Offline(*user, *last, co_await HiddenFrom(mw, *user));
  }
  co_await session->Finish();
}

}  // namespace tchat::messaging
