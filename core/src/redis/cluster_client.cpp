#include "cluster_client.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/async.hpp>
#include <tchat/core/log.hpp>

#include "pool.hpp"

namespace tchat::redis::detail {

namespace asio = boost::asio;

namespace {

constexpr int kMaxAttempts = 16;
constexpr std::chrono::milliseconds kFirstWait{25};
constexpr std::chrono::milliseconds kMaxWait{500};
constexpr std::chrono::milliseconds kMinRefreshInterval{100};
constexpr std::string_view kAsking = "*1\r\n$6\r\nASKING\r\n";
constexpr std::string_view kPublish = "*3\r\n$7\r\nPUBLISH\r\n";
constexpr std::string_view kSPublish = "*3\r\n$8\r\nSPUBLISH\r\n";

bool MustWait(std::string_view error) {
  return error.starts_with("TRYAGAIN") || error.starts_with("CLUSTERDOWN");
}

// Command i of `batch`, PUBLISH turned into SPUBLISH.
void AppendRouted(RedisBatch& out, const RedisBatch& batch, std::size_t i) {
  std::string_view cmd = batch.command(i);
  if (cmd.starts_with(kPublish)) {
    std::string rewritten(kSPublish);
    rewritten.append(cmd.substr(kPublish.size()));
    out.AddEncoded(rewritten, batch.slot(i));
    return;
  }
  out.AddEncoded(cmd, batch.slot(i));
}

}  // namespace

std::optional<Redirect> ParseRedirect(std::string_view error) {
  Redirect r;
  if (error.starts_with("MOVED ")) {
    error.remove_prefix(6);
  } else if (error.starts_with("ASK ")) {
    r.ask = true;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  auto space = error.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto [p, ec] = std::from_chars(error.data(), error.data() + space, r.slot);
  if (ec != std::errc() || r.slot < 0 || r.slot >= kClusterSlots) return std::nullopt;
  std::string_view addr = error.substr(space + 1);
  auto colon = addr.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto [q, ec2] = std::from_chars(addr.data() + colon + 1, addr.data() + addr.size(), r.port);
  if (ec2 != std::errc() || r.port == 0) return std::nullopt;
  r.host = std::string(addr.substr(0, colon));
  return r;
}

bool NotSent(const Error& error) {
  return error.code == ErrorCode::kUnavailable && error.message.starts_with("redis dial ");
}

Cluster::Cluster(asio::any_io_executor executor, RedisOptions options)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      seeds_(ParseClusterUrl(options_.url)),
      errors_(&ConnectionErrors(options_.service)),
      slot_node_(kClusterSlots, -1) {
  options_.pool_size = std::max(1, options_.pool_size);
  options_.min_idle = std::clamp(options_.min_idle, 0, options_.pool_size);
  if (seeds_) nodes_ = *seeds_;
  pools_.resize(nodes_.size());
}

Cluster::~Cluster() = default;

Status Cluster::url_status() const {
  if (!seeds_) return seeds_.error();
  return Ok();
}

int Cluster::NodeOf(int slot) const {
  if (slot < 0) {
    for (int n : slot_node_) {
      if (n >= 0) return n;
    }
    return nodes_.empty() ? -1 : 0;
  }
  return slot_node_[static_cast<std::size_t>(slot)];
}

int Cluster::NodeIndex(const std::string& host, std::uint16_t port, int near) {
  std::string h = host;
  if (h.empty() && near >= 0) h = nodes_[static_cast<std::size_t>(near)].host;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].host == h && nodes_[i].port == port) return static_cast<int>(i);
  }
  RedisEndpoint ep = nodes_.empty() ? RedisEndpoint{} : nodes_.front();
  ep.host = h;
  ep.port = port;
  ep.db = 0;
  nodes_.push_back(std::move(ep));
  pools_.emplace_back();
  return static_cast<int>(nodes_.size() - 1);
}

void Cluster::NoteMoved(const Redirect& redirect, int near) {
  slot_node_[static_cast<std::size_t>(redirect.slot)] =
      NodeIndex(redirect.host, redirect.port, near);
  stale_ = true;
}

std::shared_ptr<Pool> Cluster::PoolFor(int node) {
  auto& pool = pools_[static_cast<std::size_t>(node)];
  if (!pool)
    pool = std::make_shared<Pool>(executor_, options_, nodes_[static_cast<std::size_t>(node)]);
  return pool;
}

Task<Status> Cluster::Refresh() {
  auto self = shared_from_this();
  if (refreshing_) {
    Waiter waiter;
    refresh_waiters_.push_back(&waiter);
    co_await Suspend(waiter);
    co_return last_refresh_;
  }
  if (have_topology_ && Clock::now() - last_refresh_at_ < kMinRefreshInterval) {
    co_return last_refresh_;
  }
  refreshing_ = true;
  Status status = co_await Load();
  refreshing_ = false;
  last_refresh_ = status;
  last_refresh_at_ = Clock::now();
  if (status) stale_ = false;
  auto waiters = std::move(refresh_waiters_);
  refresh_waiters_.clear();
  for (Waiter* w : waiters) w->Wake();
  co_return status;
}

Task<Status> Cluster::Load() {
  if (!seeds_) co_return seeds_.error();
  // Masters of the current map first, then every node ever seen (seeds included).
  std::vector<int> order;
  for (int n : slot_node_) {
    if (n >= 0 && std::find(order.begin(), order.end(), n) == order.end()) order.push_back(n);
  }
  for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
    if (std::find(order.begin(), order.end(), i) == order.end()) order.push_back(i);
  }
  Status last = Error::Unavailable("redis cluster: no node known");
  for (int n : order) {
    if (shut_) co_return Error::Unavailable("redis client closed");
    const std::array<std::string_view, 2> argv{"CLUSTER", "SLOTS"};
    auto reply = co_await PoolFor(n)->Exec(argv);
    if (!reply) {
      last = std::move(reply).error();
      continue;
    }
    Status applied = Apply(*reply, n);
    if (applied) co_return applied;
    last = applied;
  }
  log::Warn("redis cluster: slot map not loaded", {{"error", last.error().message}});
  co_return last;
}

Status Cluster::Apply(const RedisReply& slots, int asked) {
  if (!slots.IsArray()) return Error::Internal("redis cluster: bad CLUSTER SLOTS reply");
  std::vector<int> map(kClusterSlots, -1);
  std::size_t covered = 0;
  for (const RedisReply& range : slots.elements) {
    const auto& e = range.elements;
    if (!range.IsArray() || e.size() < 3 || !e[0].IsInteger() || !e[1].IsInteger() ||
        !e[2].IsArray() || e[2].elements.size() < 2 || !e[2].elements[1].IsInteger()) {
      return Error::Internal("redis cluster: bad CLUSTER SLOTS entry");
    }
    const auto& master = e[2].elements;
    int node = NodeIndex(master[0].str, static_cast<std::uint16_t>(master[1].integer), asked);
    for (auto s = e[0].integer; s <= e[1].integer && s < kClusterSlots; ++s) {
      map[static_cast<std::size_t>(s)] = node;
      ++covered;
    }
  }
  if (covered == 0) return Error::Unavailable("redis cluster: no slot is served");
  slot_node_ = std::move(map);
  have_topology_ = true;
  return Ok();
}

Task<Result<RedisReply>> Cluster::Exec(RedisArgs args) {
  RedisBatch one;
  one.Add(args);
  auto r = co_await ExecPipeline(one);
  if (!r) co_return std::move(r).error();
  RedisReply& reply = r->front();
  if (reply.IsError()) co_return Error::Internal(std::move(reply.str));
  co_return std::move(reply);
}

// One node's replies of a round: kept, or queued for the next round (MOVED,
// ASK, TRYAGAIN, CLUSTERDOWN).
void Cluster::Sort(int node, std::vector<RedisReply>& got, const std::vector<Item>& items,
                   std::vector<RedisReply>& replies, Round& round) {
  std::size_t k = 0;
  for (const Item& it : items) {
    if (it.asking) ++k;  // ASKING's +OK
    RedisReply& reply = got[k++];
    if (reply.IsError()) {
      if (auto redirect = ParseRedirect(reply.str)) {
        if (redirect->ask) {
          round.again.push_back({it.index, NodeIndex(redirect->host, redirect->port, node), true});
        } else {
          NoteMoved(*redirect, node);
          round.again.push_back({it.index});
        }
        round.last_error = reply.str;
        continue;
      }
      if (MustWait(reply.str)) {
        round.last_error = reply.str;
        stale_ = true;
        round.must_wait = true;
        round.again.push_back({it.index});
        continue;
      }
    }
    replies[it.index] = std::move(reply);
  }
}

// Sends each node's share of a batch, all at once (one round trip, not one per
// node), and returns their results in the order of `groups`.
Task<std::vector<Result<std::vector<RedisReply>>>> Cluster::SendGroups(
    const RedisBatch& batch, const std::map<int, std::vector<Item>>& groups) {
  std::vector<Result<std::vector<RedisReply>>> results(
      groups.size(), Error::Unavailable("redis cluster: not sent"));
  std::size_t pending = groups.size();
  Waiter all;
  std::size_t g = 0;
  for (const auto& [node, items] : groups) {
    RedisBatch sub;
    for (const Item& it : items) {
      if (it.asking) sub.AddEncoded(kAsking, -1);
      AppendRouted(sub, batch, it.index);
    }
    if (groups.size() == 1) {
      results[0] = co_await PoolFor(node)->ExecPipeline(sub);
      co_return results;
    }
    asio::co_spawn(
        executor_,
        [&results, &pending, &all, i = g, sub = std::move(sub),
         pool = PoolFor(node)]() -> Task<void> {
          results[i] = co_await pool->ExecPipeline(sub);
          if (--pending == 0) all.Wake();
        },
        asio::detached);
    ++g;
  }
  if (pending > 0) co_await Suspend(all);
  co_return results;
}

Task<Result<std::vector<RedisReply>>> Cluster::ExecPipeline(const RedisBatch& batch) {
  auto self = shared_from_this();
  std::vector<RedisReply> replies(batch.size());
  std::vector<Item> pending;
  for (std::size_t i = 0; i < batch.size(); ++i) pending.push_back({i});
  auto wait = kFirstWait;
  std::string last_error = "no slot map";
  for (int attempt = 0; !pending.empty(); ++attempt) {
    if (shut_) co_return Error::Unavailable("redis client closed");
    if (attempt == kMaxAttempts) {
      co_return Error::Unavailable("redis cluster: command not served after " +
                                   std::to_string(kMaxAttempts) + " attempts: " + last_error);
    }
    if (stale()) {
      Status st = co_await Refresh();
      if (!st) last_error = st.error().message;
    }
    Round round;
    round.last_error = std::move(last_error);
    std::map<int, std::vector<Item>> groups;
    for (const Item& it : pending) {
      int node = it.node >= 0 ? it.node : NodeOf(batch.slot(it.index));
      if (node < 0) {
        round.again.push_back({it.index});
        round.must_wait = true;
        stale_ = true;
        continue;
      }
      groups[node].push_back(it);
    }
    auto results = co_await SendGroups(batch, groups);
    std::size_t g = 0;
    for (auto& [node, items] : groups) {
      auto& r = results[g++];
      if (!r) {
        if (!NotSent(r.error())) co_return std::move(r).error();
        round.last_error = r.error().message;
        stale_ = true;
        round.must_wait = true;
        for (const Item& it : items) round.again.push_back({it.index});
        continue;
      }
      Sort(node, *r, items, replies, round);
    }
    pending.swap(round.again);
    last_error = std::move(round.last_error);
    if (!pending.empty() && round.must_wait) {
      co_await Sleep(wait);
      wait = std::min(wait * 2, kMaxWait);
    }
  }
  co_return replies;
}

Task<Status> Cluster::Warmup() {
  auto self = shared_from_this();
  if (!seeds_) co_return seeds_.error();
  Status st = co_await Refresh();
  if (!st) co_return st;
  std::vector<int> masters;
  for (int n : slot_node_) {
    if (n >= 0 && std::find(masters.begin(), masters.end(), n) == masters.end()) {
      masters.push_back(n);
    }
  }
  for (int n : masters) {
    Status s = co_await PoolFor(n)->Warmup();
    if (!s) co_return s;
  }
  co_return Ok();
}

Task<Status> Cluster::Ping(std::chrono::milliseconds deadline) {
  return PingWithin(executor_, shared_from_this(), deadline);
}

void Cluster::Shutdown() {
  shut_ = true;
  for (auto& p : pools_) {
    if (p) p->Shutdown();
  }
  auto waiters = std::move(refresh_waiters_);
  refresh_waiters_.clear();
  for (Waiter* w : waiters) w->Wake();
}

std::size_t Cluster::OpenCount() const {
  std::size_t n = 0;
  for (const auto& p : pools_) n += p ? p->OpenCount() : 0;
  return n;
}

std::size_t Cluster::InFlight() const {
  std::size_t n = 0;
  for (const auto& p : pools_) n += p ? p->InFlight() : 0;
  return n;
}

// --- ClusterConnection --------------------------------------------------------

Task<Result<std::shared_ptr<Conn>>> ClusterConnection::ConnFor(int node) {
  if (auto it = conns_.find(node); it != conns_.end()) {
    if (it->second->open()) co_return it->second;
    Close();
    co_return Error::Unavailable("redis cluster: dedicated connection lost");
  }
  auto dialed = co_await Conn::Dial(cluster_->executor(), cluster_->options(), cluster_->node(node),
                                    ClientName(cluster_->options().service, ":dedicated"),
                                    cluster_->errors());
  if (!dialed) {
    cluster_->MarkStale();
    co_return std::move(dialed).error();
  }
  if (closed_) {
    (*dialed)->Close();
    co_return Error::Unavailable("redis connection closed");
  }
  conns_[node] = *dialed;
  co_return std::move(*dialed);
}

Task<Result<RedisReply>> ClusterConnection::Exec(RedisArgs args, std::chrono::milliseconds extra) {
  auto cluster = cluster_;
  const int slot = CommandSlot(args);
  int ask_node = -1;
  auto wait = kFirstWait;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    if (closed_) co_return Error::Unavailable("redis connection closed");
    if (cluster->stale()) (void)co_await cluster->Refresh();
    const int node = ask_node >= 0 ? ask_node : cluster->NodeOf(slot);
    Result<RedisReply> r = Error::Unavailable("redis cluster: no node serves the slot");
    if (node >= 0) {
      auto conn = co_await ConnFor(node);
      if (!conn) {
        if (closed_ || !NotSent(conn.error())) co_return std::move(conn).error();
        r = std::move(conn).error();
      } else {
        if (ask_node >= 0) {
          const std::array<std::string_view, 1> asking{"ASKING"};
          (void)co_await (*conn)->Exec(asking);
        }
        r = co_await (*conn)->Exec(args, extra);
        if (!r && r.error().code == ErrorCode::kUnavailable) Close();
      }
    }
    ask_node = -1;
    if (r) co_return r;
    if (r.error().code == ErrorCode::kInternal) {
      if (auto redirect = ParseRedirect(r.error().message)) {
        if (redirect->ask) {
          ask_node = cluster->NodeIndex(redirect->host, redirect->port, node);
        } else {
          cluster->NoteMoved(*redirect, node);
        }
        continue;
      }
      if (!MustWait(r.error().message)) co_return r;
    } else if (node >= 0 && !NotSent(r.error())) {
      co_return r;  // sent, and the connection broke: it may have run
    }
    cluster->MarkStale();
    co_await Sleep(wait);
    wait = std::min(wait * 2, kMaxWait);
  }
  co_return Error::Unavailable("redis cluster: command not served after " +
                               std::to_string(kMaxAttempts) + " attempts");
}

Task<Result<std::vector<RedisReply>>> ClusterConnection::ExecPipeline(const RedisBatch& batch) {
  auto cluster = cluster_;
  int slot = -1;
  for (std::size_t i = 0; i < batch.size() && slot < 0; ++i) slot = batch.slot(i);
  if (cluster->stale()) (void)co_await cluster->Refresh();
  const int node = cluster->NodeOf(slot);
  if (node < 0) co_return Error::Unavailable("redis cluster: no node serves the slot");
  auto conn = co_await ConnFor(node);
  if (!conn) co_return std::move(conn).error();
  co_return co_await (*conn)->ExecPipeline(batch);
}

void ClusterConnection::Close() {
  closed_ = true;
  auto conns = std::move(conns_);
  conns_.clear();
  for (auto& [node, conn] : conns) conn->Close();
}

}  // namespace tchat::redis::detail
