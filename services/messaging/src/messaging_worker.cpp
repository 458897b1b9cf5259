#include "messaging_worker.hpp"

#include <boost/asio/io_context.hpp>

#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/jwt/token_verifier.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/pg/read_pool.hpp>
#include <tchat/core/redis/client.hpp>
#include <tchat/core/worker.hpp>

namespace tchat::messaging {

MessagingWorker::MessagingWorker(Worker& worker, const Config& cfg,
                                 const redis::RedisOptions& redis_options,
                                 const std::string& instance_id,
                                 std::shared_ptr<events::OutboxRelay> relay)
    : node_id(instance_id + "-" + std::to_string(worker.index())), config(cfg) {
  auto& pool = worker.Get<pg::Pool>();
  auto& redis = worker.Get<redis::RedisClient>();
  auto ex = worker.io().get_executor();
  conversations = std::make_unique<ConversationStore>(pool);
  messages = std::make_unique<PgMessageStore>(pool);
  redis::RedisOptions sub = redis_options;
  sub.service = "messaging";
  hub = std::make_unique<Hub>(ex, redis, sub, Hub::Options{cfg.redis_prefix});
  presence = std::make_unique<Presence>(redis, *hub, node_id, cfg.redis_prefix, cfg.presence_ttl);
  batcher =
      std::make_unique<SendBatcher>(ex, *messages, *hub, std::move(relay),
                                    SendBatcher::Options{cfg.send_batch_max, cfg.send_lanes,
                                                         cfg.send_linger, cfg.send_linger_from});
  limits = std::make_unique<UserLimits>(redis, cfg.limits);
  service = std::make_unique<MessagingService>(*conversations, *messages, *batcher, *hub, *presence,
                                               *limits, cfg.service);
  search_store = std::make_unique<PgSearchStore>(pool);
  search = std::make_unique<SearchService>(*search_store, *limits);
  service->UseReads(worker.Find<pg::ReadPool>());
  guard = std::make_unique<SessionGuard>(*hub, kRememberRevoked);
}

MessagingWorker::~MessagingWorker() = default;

std::string MessagingWorker::NextSessionId() {
  return node_id + "-" + std::to_string(++next_session);
}

}  // namespace tchat::messaging
