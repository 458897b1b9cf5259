#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/log.hpp>
#include <tchat/core/redis/client.hpp>

#include "cluster_client.hpp"
#include "conn.hpp"
#include "pool.hpp"

namespace tchat::redis {

// --- RedisConnection ---------------------------------------------------------

RedisConnection::RedisConnection(std::shared_ptr<detail::Conn> conn) : conn_(std::move(conn)) {}
RedisConnection::RedisConnection(std::shared_ptr<detail::ClusterConnection> conn)
    : cluster_(std::move(conn)) {}
RedisConnection::RedisConnection(RedisConnection&&) noexcept = default;
RedisConnection& RedisConnection::operator=(RedisConnection&& other) noexcept {
  if (this != &other) {
    Close();
    conn_ = std::move(other.conn_);
    cluster_ = std::move(other.cluster_);
  }
  return *this;
}
RedisConnection::~RedisConnection() {
  Close();
}

Task<Result<RedisReply>> RedisConnection::Command(RedisArgs args) {
  if (cluster_) return cluster_->Exec(args);
  return conn_->Exec(args);
}

Task<Result<RedisReply>> RedisConnection::BlockingCommand(RedisArgs args,
                                                          std::chrono::milliseconds block) {
  if (cluster_) return cluster_->Exec(args, block);
  return conn_->Exec(args, block);
}

Task<Result<std::vector<RedisReply>>> RedisConnection::Pipeline(const RedisBatch& batch) {
  if (cluster_) return cluster_->ExecPipeline(batch);
  return conn_->ExecPipeline(batch);
}

bool RedisConnection::IsOpen() const {
  if (cluster_) return cluster_->open();
  return conn_ && conn_->open();
}

void RedisConnection::Close() {
  if (cluster_) cluster_->Close();
  if (conn_) conn_->Close();
}

// --- RedisClient -------------------------------------------------------------

RedisClient::RedisClient(boost::asio::any_io_executor executor, RedisOptions options) {
  if (IsClusterUrl(options.url)) {
    cluster_ = std::make_shared<detail::Cluster>(std::move(executor), std::move(options));
  } else {
    pool_ = std::make_shared<detail::Pool>(std::move(executor), std::move(options));
  }
}

RedisClient::~RedisClient() {
  Close();
}

Task<Status> RedisClient::Warmup() {
  if (cluster_) return cluster_->Warmup();
  return pool_->Warmup();
}

Task<Result<RedisReply>> RedisClient::Command(RedisArgs args) {
  return Exec(args);
}

Task<Result<RedisReply>> RedisClient::Exec(RedisArgs args) {
  if (cluster_) return cluster_->Exec(args);
  return pool_->Exec(args);
}

Task<Result<RedisReply>> RedisClient::BlockingCommand(RedisArgs, std::chrono::milliseconds) {
  co_return Error::InvalidArgument(
      "blocking redis commands need a dedicated connection (RedisClient::Dedicated)");
}

Task<Result<std::vector<RedisReply>>> RedisClient::Pipeline(const RedisBatch& batch) {
  if (cluster_) return cluster_->ExecPipeline(batch);
  return pool_->ExecPipeline(batch);
}

Task<Result<RedisConnection>> RedisClient::Dedicated() {
  if (cluster_) {
    if (Status st = cluster_->url_status(); !st) co_return st.error();
    co_return RedisConnection(std::make_shared<detail::ClusterConnection>(cluster_));
  }
  auto conn = co_await pool_->DialDedicated();
  if (!conn) co_return std::move(conn).error();
  co_return RedisConnection(std::move(*conn));
}

Task<Status> RedisClient::Ping(std::chrono::milliseconds deadline) {
  if (cluster_) return cluster_->Ping(deadline);
  return pool_->Ping(deadline);
}

void RedisClient::Close() {
  if (cluster_) cluster_->Shutdown();
  if (pool_) pool_->Shutdown();
}

std::size_t RedisClient::OpenConnections() const {
  return cluster_ ? cluster_->OpenCount() : pool_->OpenCount();
}
std::size_t RedisClient::InFlight() const {
  return cluster_ ? cluster_->InFlight() : pool_->InFlight();
}

namespace {

Error Unexpected(std::string_view command, const RedisReply& reply) {
  return Error::Internal("unexpected redis reply to " + std::string(command) + " (type " +
                         std::to_string(static_cast<int>(reply.type)) + ")");
}

Result<std::int64_t> IntegerReply(std::string_view command, Result<RedisReply> reply) {
  if (!reply) return std::move(reply).error();
  if (!reply->IsInteger()) return Unexpected(command, *reply);
  return reply->integer;
}

}  // namespace

Task<Result<std::optional<std::string>>> RedisClient::Get(std::string_view key) {
  const std::array<std::string_view, 2> argv{"GET", key};
  auto reply = co_await Exec(argv);
  if (!reply) co_return std::move(reply).error();
  if (reply->IsNil()) co_return std::optional<std::string>();
  if (!reply->IsString()) co_return Unexpected("GET", *reply);
  co_return std::optional<std::string>(std::move(reply->str));
}

Task<Result<bool>> RedisClient::Set(std::string_view key, std::string_view value,
                                    RedisSetOptions options) {
  std::array<std::string_view, 6> args{"SET", key, value};
  std::size_t n = 3;
  char ttl[24];
  if (options.ttl) {
    auto [end, ec] = std::to_chars(ttl, ttl + sizeof(ttl), options.ttl->count());
    args[n++] = "EX";
    args[n++] = std::string_view(ttl, static_cast<std::size_t>(end - ttl));
  }
  if (options.only_if_absent) args[n++] = "NX";
  auto reply = co_await Exec(std::span<const std::string_view>(args.data(), n));
  if (!reply) co_return std::move(reply).error();
  if (reply->IsNil()) co_return false;
  if (!reply->IsStatus()) co_return Unexpected("SET", *reply);
  co_return true;
}

Task<Result<std::int64_t>> RedisClient::Incr(std::string_view key) {
  const std::array<std::string_view, 2> argv{"INCR", key};
  co_return IntegerReply("INCR", co_await Exec(argv));
}

Task<Result<bool>> RedisClient::Expire(std::string_view key, std::chrono::seconds ttl) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), ttl.count());
  const std::array<std::string_view, 3> argv{
      "EXPIRE", key, std::string_view(digits, static_cast<std::size_t>(end - digits))};
  auto n = IntegerReply("EXPIRE", co_await Exec(argv));
  if (!n) co_return std::move(n).error();
  co_return *n == 1;
}

Task<Result<std::int64_t>> RedisClient::Del(std::string_view key) {
  const std::array<std::string_view, 2> argv{"DEL", key};
  co_return IntegerReply("DEL", co_await Exec(argv));
}

Task<Result<std::int64_t>> RedisClient::Publish(std::string_view channel,
                                                std::string_view message) {
  const std::array<std::string_view, 3> argv{"PUBLISH", channel, message};
  co_return IntegerReply("PUBLISH", co_await Exec(argv));
}

}  // namespace tchat::redis
