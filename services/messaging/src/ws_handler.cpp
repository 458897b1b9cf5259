#include "ws_handler.hpp"

#include <boost/asio/io_context.hpp>

#include <tchat/core/http/websocket.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/worker.hpp>

#include "messaging_worker.hpp"
#include "model_json.hpp"
#include "validation.hpp"

namespace tchat::messaging {

namespace {

void SendError(WsSession& s, std::string_view client_msg_id, const Error& e) {
  s.Send(ErrorEvent(client_msg_id, e.WireCode(), e.message));
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
  if (type == "message.send") {
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

}  // namespace

Task<void> HandleWebSocket(http::Request& req, http::WebSocket& ws) {
  auto& mw = req.worker->Get<MessagingWorker>();
  auto user = http::CallerId(req);
  if (!user) {
    co_await ws.Close(1008, user.error().message);
    co_return;
  }
  auto convs = co_await mw.conversations->ConversationIds(*user);
  if (!convs) {
    log::Warn("websocket refused", {{"user_id", *user}, {"error", convs.error().message}});
    co_await ws.Close(1011, "temporarily unavailable");
    co_return;
  }
  auto session = std::make_shared<WsSession>(ws, req.worker->io().get_executor(), *user,
                                             mw.NextSessionId(), mw.config.session);
  const bool first_here = co_await mw.hub->Attach(session, *convs);
  session->Send(ToJson(json::object{{"type", "ready"}, {"session_id", session->id()}}));
  if (first_here) co_await mw.presence->Online(*user, *convs);
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
  if (auto last = mw.hub->Detach(session)) co_await mw.presence->Offline(*user, *last);
  co_await session->Finish();
}

}  // namespace tchat::messaging
