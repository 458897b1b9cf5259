#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "message_store.hpp"

namespace tchat::events {
class OutboxRelay;
}

namespace tchat::messaging {

class Hub;

// Group commit of message sends. Each conversation has a home worker
// (hash % workers): sends submitted on other workers are handed to it, and the
// answer is handed back, so that one conversation's rows are only ever locked by
// one worker's batches of this process (no lock waits between workers).
//
// Within a worker, Sends are queued in lanes (by a
// hash of the conversation, so one conversation's messages always share a lane
// and keep their order); each lane commits one batch at a time, and while it is
// committing the next batch gathers. Under load one commit (one WAL flush) covers
// many messages, lanes commit side by side on separate connections, and at low
// load a message is committed at once.
// Under load a lane lingers: after a commit of at least `linger_from` messages
// it starts the next one no sooner than `linger` after that commit started. Each
// commit costs PostgreSQL about 0.4 ms of CPU whatever its size, and committing
// back to back at moderate load spends the machine's spare CPU on those fixed
// costs, which everything else then queues behind. At 20k msg/s on 2 cores,
// 5 ms takes commits from ~33 to ~54 messages, and CPU per message down ~10%.
// A smaller commit means the load is light, and a full batch waiting means it is
// heavy: either way the next one starts at once.
//
// After a commit every sender is answered (in submission order), then the
// message.new events go to the hub in seq order. A batch that fails as a whole is
// answered with the error (the client retries with the same client_msg_id, which
// is idempotent even when the failure hid a successful commit).
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

  // The batchers of every worker of the process (this one included, at
  // `self`), set once at start-up before any Submit.
  struct Peer {
    boost::asio::any_io_executor executor;
    SendBatcher* batcher;
  };
  void SetPeers(std::vector<Peer> peers, std::size_t self);

  // Queues one message. `origin_session` (may be empty) is left out of the
  // message.new fan-out: that connection gets the ack instead. `cb` runs on this
  // worker exactly once.
  void Submit(AppendRequest request, std::string origin_session, Callback cb);

  // Submit and wait for the answer.
  Task<Result<AppendOutcome>> Send(AppendRequest request, std::string origin_session);

  std::size_t queued() const;

 private:
  struct Item {
    AppendRequest request;
    std::string origin_session;
    Callback cb;
  };
  void SubmitHere(AppendRequest request, std::string origin_session, Callback cb);

  struct Lane {
    std::vector<Item> pending;
    bool running = false;
  };
  Task<void> Run(Lane& lane);
  Task<void> Commit(std::vector<Item> items);

  boost::asio::any_io_executor ex_;
  MessageStore& store_;
  Hub& hub_;
  std::shared_ptr<events::OutboxRelay> relay_;
  Options options_;
  std::vector<Lane> lanes_;
  std::vector<Peer> peers_;
  std::size_t self_ = 0;
};

}  // namespace tchat::messaging
