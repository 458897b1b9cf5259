#include "send_batcher.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/async.hpp>
#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/log.hpp>

#include "hub.hpp"
#include "metrics.hpp"
#include "model_json.hpp"

namespace tchat::messaging {

namespace asio = boost::asio;

SendBatcher::SendBatcher(asio::any_io_executor ex, MessageStore& store, Hub& hub,
                         std::shared_ptr<events::OutboxRelay> relay, Options options)
    : ex_(std::move(ex)),
      store_(store),
      hub_(hub),
      relay_(std::move(relay)),
      options_(options),
      lanes_(std::max<std::size_t>(1, options.lanes)) {}

std::size_t SendBatcher::queued() const {
  std::size_t n = 0;
  for (const Lane& l : lanes_) n += l.pending.size();
  return n;
}

void SendBatcher::SetPeers(std::vector<Peer> peers, std::size_t self) {
  peers_ = std::move(peers);
  self_ = self;
}

void SendBatcher::Submit(AppendRequest request, std::string origin_session, Callback cb) {
  if (peers_.size() > 1) {
    const std::size_t home = std::hash<std::string_view>{}(request.conversation_id) % peers_.size();
    if (home != self_) {
      // Hand over to the home worker; its answer comes back to run `cb` here.
      asio::post(peers_[home].executor,
                 [target = peers_[home].batcher, back = ex_, req = std::move(request),
                  origin = std::move(origin_session), cb = std::move(cb)]() mutable {
                   target->SubmitHere(std::move(req), std::move(origin),
                                      [back, cb = std::move(cb)](Result<AppendOutcome> r) mutable {
                                        asio::post(
                                            back, [cb = std::move(cb), r = std::move(r)]() mutable {
                                              cb(std::move(r));
                                            });
                                      });
                 });
      return;
    }
  }
  SubmitHere(std::move(request), std::move(origin_session), std::move(cb));
}

void SendBatcher::SubmitHere(AppendRequest request, std::string origin_session, Callback cb) {
  Lane& lane =
      lanes_[(std::hash<std::string_view>{}(request.conversation_id) >> 20) % lanes_.size()];
  lane.pending.push_back(Item{std::move(request), std::move(origin_session), std::move(cb)});
  if (!lane.running) {
    lane.running = true;
    asio::co_spawn(ex_, Run(lane), asio::detached);
  }
}

Task<Result<AppendOutcome>> SendBatcher::Send(AppendRequest request, std::string origin_session) {
  AsyncEvent done(ex_);
  std::optional<Result<AppendOutcome>> answer;
  Submit(std::move(request), std::move(origin_session), [&](Result<AppendOutcome> r) {
    answer.emplace(std::move(r));
    done.Set();
  });
  co_await done.Wait();
  co_return std::move(*answer);
}

Task<void> SendBatcher::Run(Lane& lane) {
  while (!lane.pending.empty()) {
    std::vector<Item> items;
    if (lane.pending.size() <= options_.max_batch) {
      items.swap(lane.pending);
    } else {
      const auto n = static_cast<std::ptrdiff_t>(options_.max_batch);
      items.assign(std::make_move_iterator(lane.pending.begin()),
                   std::make_move_iterator(lane.pending.begin() + n));
      lane.pending.erase(lane.pending.begin(), lane.pending.begin() + n);
    }
    const std::size_t committed = items.size();
    const auto started = std::chrono::steady_clock::now();
    co_await Commit(std::move(items));
    // A full batch is already waiting: nothing to gain by lingering.
    if (committed >= options_.linger_from && options_.linger.count() > 0 &&
        lane.pending.size() < options_.max_batch) {
      asio::steady_timer hold(ex_);
      hold.expires_at(started + options_.linger);
      (void)co_await hold.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  lane.running = false;
}

Task<void> SendBatcher::Commit(std::vector<Item> items) {
  // Conversation rows are locked in batch order: sort by conversation (stable, so
  // one sender's messages keep their order) so that concurrent batches of other
  // workers and replicas lock in the same order and cannot deadlock.
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.request.conversation_id < b.request.conversation_id;
  });
  std::vector<AppendRequest> requests;
  requests.reserve(items.size());
  for (Item& it : items) requests.push_back(it.request);
  const auto t0 = std::chrono::steady_clock::now();
  auto result = co_await store_.Append(std::move(requests));
  if (!result && items.size() > 1 && !result.error().IsUnavailable()) {
    // Something in the batch that validation let through: do them one by one so
    // that one bad message cannot fail the others.
    log::Warn("send batch failed; retrying one by one", {{"error", result.error().message}});
    std::vector<AppendOutcome> outcomes;
    std::vector<std::optional<Error>> errors(items.size());
    outcomes.resize(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      std::vector<AppendRequest> one{items[i].request};
      auto r = co_await store_.Append(std::move(one));
      if (r && r->size() == 1) {
        outcomes[i] = std::move(r->front());
      } else {
        errors[i] = r ? Error::Internal("empty answer") : std::move(r).error();
      }
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (errors[i]) {
        items[i].cb(std::move(*errors[i]));
      } else {
        items[i].cb(outcomes[i]);
      }
    }
    result = std::move(outcomes);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (errors[i]) (*result)[i].status = AppendStatus::kNotFound;  // not published below
    }
  } else if (!result) {
    for (Item& it : items) it.cb(result.error());
    co_return;
  } else {
    for (std::size_t i = 0; i < items.size(); ++i) items[i].cb((*result)[i]);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto& m = Metrics::Get();
  m.send_batches->Inc();
  m.send_batch_size->Observe(static_cast<double>(items.size()));
  m.send_commit_seconds->Observe(secs);
  std::size_t appended = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const AppendOutcome& o = (*result)[i];
    if (o.status != AppendStatus::kOk) continue;
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
