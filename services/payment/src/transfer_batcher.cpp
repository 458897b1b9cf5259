#include "transfer_batcher.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include <tchat/core/group_commit.hpp>

#include "metrics.hpp"

namespace tchat::payment {
namespace {

constexpr int kConflictRetries = 3;

}  // namespace

TransferBatcher::TransferBatcher(boost::asio::any_io_executor home,
                                 std::shared_ptr<LedgerStore> store, int max_size, int max_inflight,
                                 int min_fill, std::chrono::microseconds linger) {
  GroupCommitOptions o;
  o.name = "transfer";
  o.max_batch = static_cast<std::size_t>(std::max(1, max_size));
  o.max_inflight = max_inflight;
  o.min_fill = static_cast<std::size_t>(std::max(1, min_fill));
  o.linger = linger;
  // Its clients get their answers and most will be back shortly: expect them next
  // to the transfers already waiting.
  o.linger_from = std::min(o.min_fill, o.max_batch);
  o.linger_return_percent = 75;
  Commits::Hooks hooks;
  hooks.keys = [](const TransferItem& it) {
    return Commits::Keys{static_cast<std::uint64_t>(it.from_account),
                         static_cast<std::uint64_t>(it.to_account)};
  };
  std::vector<Commits::Home> homes;
  homes.push_back(Commits::Home{
      std::move(home),
      [store = std::move(store)](std::span<TransferItem> batch) { return Post(store, batch); },
      [](const Commits::Report& r) { Metrics::Get().BatchSize(r.items.size()); }});
  commits_ = std::make_shared<Commits>(std::move(homes), std::move(o), std::move(hooks));
}

TransferBatcher::~TransferBatcher() = default;

Task<Result<PostOutcome>> TransferBatcher::Submit(TransferItem item) {
  auto t = commits_->Commit(std::move(item));
  co_return co_await std::move(t);
}

Task<Result<std::vector<PostOutcome>>> TransferBatcher::Post(std::shared_ptr<LedgerStore> store,
                                                             std::span<TransferItem> batch) {
  std::vector<std::string> json;
  json.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) json.push_back(TransferItemJson(batch[i], i + 1));
  std::vector<const std::string*> items;
  items.reserve(json.size());
  for (const std::string& j : json) items.push_back(&j);
  bool retried_connection = false;
  for (int attempt = 0;; ++attempt) {
    auto r = co_await store->PostTransfers(items);
    if (r) {
      co_return r;  // GroupCommit refuses a reply of the wrong size
    }
    const Error& e = r.error();
    if ((e.IsDeadlock() || e.IsSerializationFailure()) && attempt < kConflictRetries) continue;
    if (e.IsUnavailable() && e.sqlstate.empty() && !retried_connection) {
      retried_connection = true;
      continue;
    }
    co_return r;
  }
}

}  // namespace tchat::payment
