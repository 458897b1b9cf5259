#include "support/redis.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <utility>

#include <hiredis/hiredis.h>

#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>

namespace tchat::e2e {

namespace {

std::pair<std::string, int> HostPort(std::string_view addr) {
  const auto colon = addr.rfind(':');
  if (colon == std::string_view::npos) return {std::string(addr), 6379};
  return {std::string(addr.substr(0, colon)), std::stoi(std::string(addr.substr(colon + 1)))};
}

}  // namespace

Redis::Redis(const std::string& url) {
  constexpr std::string_view kCluster = "redis-cluster://";
  if (url.starts_with(kCluster)) {
    cluster_ = true;
    std::string rest = url.substr(kCluster.size());
    rest = rest.substr(0, rest.find('/'));
    std::size_t start = 0;
    for (;;) {
      const auto comma = rest.find(',', start);
      seeds_.push_back(
          rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    ConnectAnySeed();
    return;
  }
  std::string rest = url.substr(std::string("redis://").size());
  int db = 0;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    if (slash + 1 < rest.size()) db = std::stoi(rest.substr(slash + 1));
    rest.resize(slash);
  }
  auto [host, port] = HostPort(rest);
  Connect(host, port);
  if (db != 0) Command({"SELECT", std::to_string(db)});
}

void Redis::Connect(const std::string& host, int port) {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = redisConnect(host.c_str(), port);
  addr_ = host + ":" + std::to_string(port);
  if (ctx_ == nullptr || ctx_->err) {
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = nullptr;
    throw std::runtime_error("cannot connect to redis " + addr_);
  }
}

void Redis::ConnectAnySeed() {
  for (const std::string& seed : seeds_) {
    try {
      auto [host, port] = HostPort(seed);
      Connect(host, port);
      return;
    } catch (const std::exception&) {
    }
  }
  throw std::runtime_error("cannot connect to any node of the redis cluster");
}

Redis::~Redis() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

std::string Redis::Command(const std::vector<std::string>& args) {
  if (!cluster_) return Run(args);
  for (int attempt = 0;; ++attempt) {
    try {
      return Run(args);
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      const bool moved = what.starts_with("redis: MOVED "), ask = what.starts_with("redis: ASK ");
      if (what.starts_with("redis: CROSSSLOT") && args.size() > 2 && args[0] == "DEL") {
        long n = 0;
        for (std::size_t i = 1; i < args.size(); ++i) n += std::stol(Command({"DEL", args[i]}));
        return std::to_string(n);
      }
      if (what == "redis connection error" && attempt < 20) {  // a node died: another seed
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        ConnectAnySeed();
        continue;
      }
      if ((!moved && !ask) || attempt >= 5) throw;
      auto [host, port] = HostPort(what.substr(what.rfind(' ') + 1));
      Connect(host.empty() ? "127.0.0.1" : host, port);
      if (ask) Run({"ASKING"});
    }
  }
}

void Redis::FlushDb() {
  if (!cluster_) {
    Run({"FLUSHDB"});
    return;
  }
  // CLUSTER NODES: "<id> <host:port@bus[,hostname]> <flags> ..." a line per node.
  const std::string nodes = Command({"CLUSTER", "NODES"});
  std::vector<std::string> masters;
  std::size_t at = 0;
  while (at < nodes.size()) {
    const auto end = std::min(nodes.find('\n', at), nodes.size());
    const std::string line = nodes.substr(at, end - at);
    at = end + 1;
    const auto a = line.find(' ');
    const auto b = line.find(' ', a + 1);
    const auto c = line.find(' ', b + 1);
    if (c == std::string::npos) continue;
    const std::string flags = line.substr(b + 1, c - b - 1);
    if (flags.find("master") == std::string::npos || flags.find("fail") != std::string::npos) {
      continue;
    }
    std::string addr = line.substr(a + 1, b - a - 1);
    masters.push_back(addr.substr(0, addr.find('@')));
  }
  if (masters.empty()) throw std::runtime_error("CLUSTER NODES lists no master");
  for (const std::string& m : masters) {
    auto [host, port] = HostPort(m);
    Connect(host.empty() ? "127.0.0.1" : host, port);
    Run({"FLUSHDB"});
  }
  ConnectAnySeed();
}

std::string Redis::NodeOf(const std::string& key) {
  Command({"EXISTS", key});  // lands on the owner
  return addr_;
}

long Redis::ServerPid() {
  const std::string info = Run({"INFO", "server"});
  const auto at = info.find("process_id:");
  if (at == std::string::npos) throw std::runtime_error("INFO server: no process_id");
  return std::stol(info.substr(at + 11));
}

std::string Redis::Run(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (reply == nullptr) throw std::runtime_error("redis connection error");
  std::string out;
  if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS) {
    out.assign(reply->str, reply->len);
  } else if (reply->type == REDIS_REPLY_INTEGER) {
    out = std::to_string(reply->integer);
  } else if (reply->type == REDIS_REPLY_ERROR) {
    std::string err(reply->str, reply->len);
    freeReplyObject(reply);
    throw std::runtime_error("redis: " + err);
  }
  freeReplyObject(reply);
  return out;
}

std::string Redis::Publish(std::string_view stream, const json::object& envelope) {
  return Command({"XADD", std::string(stream), "*", "event", ToJson(envelope)});
}

std::string Redis::PublishRaw(std::string_view stream, const std::vector<std::string>& fields) {
  std::vector<std::string> args{"XADD", std::string(stream), "*"};
  args.insert(args.end(), fields.begin(), fields.end());
  return Command(args);
}

json::object Envelope(const std::string& type, json::object data, std::optional<std::string> id) {
  return json::object{{"id", id.value_or(NewUuidV7())},
                      {"type", type},
                      {"occurred_at", FormatRfc3339Ms(std::chrono::system_clock::now())},
                      {"data", std::move(data)}};
}

}  // namespace tchat::e2e
