#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "message_store.hpp"

namespace tchat {
template <typename Item, typename Outcome>
class GroupCommit;
}
namespace tchat::events {
class OutboxRelay;
}

namespace tchat::messaging {

class Hub;

// One message send in a group commit: the request and the connection that sent it.
struct SendItem {
  AppendRequest request;
  std::string origin_session;
};

// Group commit of message sends (a tchat::GroupCommit, see group_commit.hpp),
// one SendBatcher per worker. Each conversation has a home worker
// (hash % workers): sends submitted on other workers are handed to it, and the
// answer is handed back, so that one conversation's rows are only ever locked by
// one worker's batches of this process (no lock waits between workers).
//
// At home, one batch commits at a time (messaging_send_lanes: up to that many,
// never two holding the same conversation), and while it is committing the next
// batch gathers. Under load one commit (one WAL flush) covers many messages, and
// at low load a message is committed at once. A batch is sorted by conversation
// (stable, so one sender's messages keep their order): concurrent batches of
// other workers and replicas lock conversation rows in the same order and cannot
// deadlock.
// Under load a home lingers: after a commit of at least `linger_from` messages
// it starts the next one no sooner than `linger` after that commit started. Each
// commit costs PostgreSQL about 0.4 ms of CPU whatever its size, and committing
// back to back at moderate load spends the machine's spare CPU on those fixed
// costs, which everything else then queues behind. At 20k msg/s on 2 cores,
// 5 ms takes commits from ~33 to ~54 messages, and CPU per message down ~10%.
// A smaller commit means the load is light, and a full batch waiting means it is
// heavy: either way the next one starts at once.
//
// After a commit every sender is answered (in batch order), then the
// message.new events go to the hub in seq order. A batch that fails as a whole
// (other than for an unavailable database) is retried one message at a time so
// that one bad message cannot fail the others; an unavailable database answers
// every sender with the error (the client retries with the same client_msg_id,
// which is idempotent even when the failure hid a successful commit).
//
// Bound to one worker; not thread-safe.
class SendBatcher {
 public:
  using Callback = std::function<void(Result<AppendOutcome>)>;

  struct Options {
    std::size_t max_batch = 256;
    std::size_t lanes = 1;  // batches of one worker committing at once
    std::chrono::microseconds linger{5000};
    std::size_t linger_from = 16;
  };

  SendBatcher(boost::asio::any_io_executor ex, MessageStore& store, Hub& hub,
              std::shared_ptr<events::OutboxRelay> relay, Options options);
  ~SendBatcher();
  SendBatcher(const SendBatcher&) = delete;
  SendBatcher& operator=(const SendBatcher&) = delete;

  // Joins the batchers of every worker of the process (worker i's at i) into one
  // group commit, each the home of its share of conversations. Once at start-up,
  // before any Submit; until then each batcher commits everything itself.
  static void Connect(const std::vector<SendBatcher*>& batchers);

  // Queues one message. `origin_session` (may be empty) is left out of the
  // message.new fan-out: that connection gets the ack instead. `cb` runs on this
  // worker exactly once.
  void Submit(AppendRequest request, std::string origin_session, Callback cb);

  // Submit and wait for the answer.
  Task<Result<AppendOutcome>> Send(AppendRequest request, std::string origin_session);

 private:
  using Commits = GroupCommit<SendItem, AppendOutcome>;
  static std::shared_ptr<Commits> Make(const std::vector<SendBatcher*>& homes);
  // The batch function and its follow-up, on this batcher's worker.
  Task<Result<std::vector<AppendOutcome>>> Append(std::span<SendItem> items);
  void Settled(std::span<const SendItem> items, std::span<const Result<AppendOutcome>> answers,
               std::chrono::steady_clock::duration took);

  boost::asio::any_io_executor ex_;
  MessageStore& store_;
  Hub& hub_;
  std::shared_ptr<events::OutboxRelay> relay_;
  Options options_;
  std::shared_ptr<Commits> commits_;
};

}  // namespace tchat::messaging
