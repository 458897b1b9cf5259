#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config.hpp"
#include "conversation_store.hpp"
#include "hub.hpp"
#include "media_service.hpp"
#include "media_store.hpp"
#include "pg_message_store.hpp"
#include "presence.hpp"
#include "search_service.hpp"
#include "search_store.hpp"
#include "send_batcher.hpp"
#include "service.hpp"
#include "session_guard.hpp"
#include "user_limits.hpp"

namespace tchat {
class Worker;
namespace events {
class OutboxRelay;
}
namespace redis {
struct RedisOptions;
}
namespace jwt {
class TokenVerifier;
}
}  // namespace tchat

namespace tchat::messaging {

// Everything the messaging service keeps per worker thread, stored on the Worker
// (w.Get<MessagingWorker>()). Built on the main thread at start-up from the
// worker's pg::Pool and redis::RedisClient; used only on that worker afterwards.
struct MessagingWorker {
  MessagingWorker(Worker& worker, const Config& config, const redis::RedisOptions& redis_options,
                  const std::string& instance_id, std::shared_ptr<events::OutboxRelay> relay);
  ~MessagingWorker();

  // "<instance>-<worker>-<n>": unique among every replica's connections.
  std::string NextSessionId();

  std::string node_id;  // "<instance>-<worker>"
  Config config;
  std::unique_ptr<ConversationStore> conversations;
  std::unique_ptr<PgMessageStore> messages;
  std::unique_ptr<Hub> hub;
  std::unique_ptr<Presence> presence;
  std::unique_ptr<SendBatcher> batcher;
  std::unique_ptr<MessagingService> service;
  std::unique_ptr<PgSearchStore> search_store;
  std::unique_ptr<SearchService> search;
  std::unique_ptr<SessionGuard> guard;
  std::unique_ptr<UserLimits> limits;
  std::unique_ptr<MediaStore> media_store;
  std::unique_ptr<MediaService> media;  // set by Setup (AttachMedia)
  // Verifies the tokens of `auth` frames (shared by every worker; null when the
  // service has no JWKS, which the server then also refuses every socket for).
  std::shared_ptr<jwt::TokenVerifier> verifier;
  std::uint64_t next_session = 0;
};

}  // namespace tchat::messaging
