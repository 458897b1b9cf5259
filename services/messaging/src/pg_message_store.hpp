#pragma once

#include <tchat/core/pg/pool.hpp>

#include "message_store.hpp"

namespace tchat::messaging {

// The PostgreSQL message store (migrations/postgres/tchat_messaging/000002):
// messages hash-partitioned by conversation, keyed by (conversation_id, seq).
// Append runs one msg_send_batch() statement per batch — one transaction, one WAL
// flush for the whole batch; that function (migrations/postgres/tchat_messaging/
// 000005) also writes the batch's message.created events, and owns their envelope. Sync tokens are
// PostgreSQL snapshots (see the migration's header). Bound to one worker's pg::Pool; not
// thread-safe.
class PgMessageStore final : public MessageStore {
 public:
  explicit PgMessageStore(pg::Pool& pool) : pool_(pool) {}

  Task<Result<std::vector<AppendOutcome>>> Append(std::vector<AppendRequest> batch) override;
  Task<Result<HistoryPage>> History(std::string_view conversation_id, HistoryQuery query) override;
  Task<Result<MessageChange>> Edit(std::string_view conversation_id, std::int64_t seq,
                                   std::string_view editor_id, std::string_view body,
                                   std::string_view event_id) override;
  Task<Result<MessageChange>> Delete(std::string_view conversation_id, std::int64_t seq,
                                     std::string_view actor_id, bool actor_is_admin,
                                     std::string_view event_id) override;
  Task<Result<MessageChange>> React(std::string_view conversation_id, std::int64_t seq,
                                    std::string_view user_id, std::string_view emoji,
                                    bool add) override;
  Task<Result<SyncResult>> Sync(std::string_view user_id, std::string_view token,
                                int message_limit) override;

  // The JSON argument of msg_send_batch for `batch`: one object per request, with
  // the field names the function's contract lists (exposed for tests).
  static std::string EncodeSendBatch(const std::vector<AppendRequest>& batch);

 private:
  pg::Pool& pool_;
};

// Sync tokens: "s1." + base64url(pg_snapshot text). Decode returns the snapshot
// text or kInvalidArgument.
std::string EncodeSyncToken(std::string_view snapshot);
Result<std::string> DecodeSyncToken(std::string_view token);

}  // namespace tchat::messaging
