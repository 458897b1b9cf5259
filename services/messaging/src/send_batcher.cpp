#include "send_batcher.hpp"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <utility>

#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/group_commit.hpp>

#include "hub.hpp"
#include "metrics.hpp"
#include "model_json.hpp"

namespace tchat::messaging {

namespace {

std::size_t ConversationHash(const SendItem& it) {
  return std::hash<std::string_view>{}(it.request.conversation_id);
}

}  // namespace

SendBatcher::SendBatcher(boost::asio::any_io_executor ex, MessageStore& store, Hub& hub,
                         std::shared_ptr<events::OutboxRelay> relay, Options options)
    : ex_(std::move(ex)),
      store_(store),
      hub_(hub),
      relay_(std::move(relay)),
      options_(options),
      commits_(Make({this})) {}

SendBatcher::~SendBatcher() = default;

std::shared_ptr<SendBatcher::Commits> SendBatcher::Make(const std::vector<SendBatcher*>& homes) {
  const Options& o = homes.front()->options_;
  GroupCommitOptions go;
  go.name = "send";
  go.max_batch = o.max_batch;
  go.max_inflight = static_cast<int>(std::max<std::size_t>(1, o.lanes));
  go.linger = o.linger;
  go.linger_from = o.linger_from;
  go.linger_from_last_start = true;
  Commits::Hooks hooks;
  hooks.home = ConversationHash;
  hooks.keys = [](const SendItem& it) {
    const std::uint64_t h = ConversationHash(it);
    return Commits::Keys{h, h};
  };
  // Conversation rows are locked in batch order (see the class comment).
  hooks.order = [](const SendItem& a, const SendItem& b) {
    return a.request.conversation_id < b.request.conversation_id;
  };
  // Something in the batch that validation let through fails alone; a database
  // that is unavailable would fail each of them too.
  hooks.retry_alone = [](const Error& e) { return !e.IsUnavailable(); };
  std::vector<Commits::Home> list;
  list.reserve(homes.size());
  for (SendBatcher* b : homes) {
    list.push_back(
        Commits::Home{b->ex_, [b](std::span<SendItem> items) { return b->Append(items); },
                      [b](const Commits::Report& r) { b->Settled(r.items, r.answers, r.took); }});
  }
  return std::make_shared<Commits>(std::move(list), std::move(go), std::move(hooks));
}

void SendBatcher::Connect(const std::vector<SendBatcher*>& batchers) {
  if (batchers.empty()) return;
  auto shared = Make(batchers);
  for (SendBatcher* b : batchers) b->commits_ = shared;
}

void SendBatcher::Submit(AppendRequest request, std::string origin_session, Callback cb) {
  commits_->Submit(ex_, SendItem{std::move(request), std::move(origin_session)}, std::move(cb));
}

Task<Result<AppendOutcome>> SendBatcher::Send(AppendRequest request, std::string origin_session) {
  auto t = commits_->Commit(SendItem{std::move(request), std::move(origin_session)});
  co_return co_await std::move(t);
}

Task<Result<std::vector<AppendOutcome>>> SendBatcher::Append(std::span<SendItem> items) {
  std::vector<AppendRequest> requests;
  requests.reserve(items.size());
  for (const SendItem& it : items) requests.push_back(it.request);
  auto t = store_.Append(std::move(requests));
  co_return co_await std::move(t);
}

void SendBatcher::Settled(std::span<const SendItem> items,
                          std::span<const Result<AppendOutcome>> answers,
                          std::chrono::steady_clock::duration took) {
  if (answers.empty()) return;  // failed as a whole: nothing committed, nothing counted
  const auto& m = Metrics::Get();
  m.send_batches->Inc();
  m.send_batch_size->Observe(static_cast<double>(items.size()));
  m.send_commit_seconds->Observe(std::chrono::duration<double>(took).count());
  std::size_t appended = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!answers[i] || answers[i]->status != AppendStatus::kOk) continue;
    const AppendOutcome& o = *answers[i];
    ++appended;
    hub_.ToMembers(o.message.conversation_id, o.recipients, items[i].origin_session,
                   MessageEvent("message.new", o.message));
  }
  if (appended > 0) {
    m.messages_appended->Inc(static_cast<double>(appended));
    if (relay_) relay_->Wake();
  }
}

}  // namespace tchat::messaging
