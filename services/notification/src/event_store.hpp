#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <tchat/core/json.hpp>
#include <tchat/core/pg/array.hpp>
#include <tchat/core/pg/connection.hpp>
#include <tchat/core/pg/params.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "audience.hpp"
#include "message_inbox.hpp"

// The SQL of event processing (EventProcessor, WriteMessageInbox): what a batch
// of stream entries reads and writes inside its one transaction —
// processed_events, the inbox (notifications), new delivery_queue rows and
// poison_events (database tchat_notification). Rows go in as columns of
// PostgreSQL array literals (pg::ArrayBuilder), one element per row, so that a
// whole batch is one statement per table. Functions that return a pg::Statement
// leave the round trip to the caller (one pipeline per batch); the others run on
// the connection they are given. Same thread rules as pg::Connection.
namespace tchat::notification {

// Records `event_ids` as processed by `consumer` (the consumer group) and returns
// those that were not recorded before.
Task<Result<std::unordered_set<std::string>>> MarkEventsProcessed(
    pg::Connection& c, const std::string& consumer, const std::vector<std::string>& event_ids);

// Deletes at most 50,000 processed_events rows older than `retention_seconds`;
// returns how many went.
Task<Result<std::int64_t>> PruneProcessedEvents(pg::Pool& pool, double retention_seconds);

// Reads the preferences, mutes (in force, of `conversations`) and devices of
// `users` (sorted user ids) into `audience`, in one pipeline.
Task<Status> LoadAudience(pg::Connection& c, const std::vector<std::string>& users,
                          const std::vector<std::string>& conversations, Audience& audience);

// Inbox entries other than "message" ones: id (UUIDv7 of the event's time), user
// id, kind, title, body, data JSON, event id, created_at (RFC 3339).
struct InboxColumns {
  pg::ArrayBuilder id, user, kind, title, body, data, event, at;
};
pg::Statement InsertInboxEntries(const InboxColumns& rows);

// Deliveries the batch's worker sends as soon as it commits: inserted in state
// 'sending', leased for `lease_ms`. user and collapse_key '' for none; device_ids
// an array literal (NULL for SMS).
struct SendingColumns {
  pg::ArrayBuilder id, channel, user, collapse_key, payload, device_ids, event;
};
pg::Statement InsertSendingDeliveries(const SendingColumns& rows, double lease_ms);

// Pushes that wait `window_ms` for others of the same (user, collapse key): one
// 'waiting' row per key, which absorbs later ones (count added, the newest
// payload by (seq, event_at) kept). Rows in key order: a stable lock order.
struct WaitingColumns {
  pg::ArrayBuilder id, user, collapse_key, payload, count, event;
};
pg::Statement UpsertWaitingDeliveries(const WaitingColumns& rows, double window_ms);

// Entries that cannot be processed: entry id, event id and type ('' when
// unknown), reason, raw text. An entry recorded before is left as it is.
struct PoisonColumns {
  pg::ArrayBuilder entry_id, event_id, type, reason, raw;
};
pg::Statement InsertPoisonEvents(const std::string& stream, const PoisonColumns& rows);

// The push devices of ended sessions (auth.session.revoked): pairs of user and session ids.
pg::Statement DeleteSessionDevices(const pg::ArrayBuilder& user_ids,
                                   const pg::ArrayBuilder& session_ids);
// Everything kept for deleted users (auth.user.deleted): devices, preferences,
// mutes, inbox entries and deliveries not being sent. Idempotent.
pg::Statement DeleteUsersData(const pg::ArrayBuilder& user_ids);
Task<Status> RecordPoisonEvents(pg::Pool& pool, const std::string& stream,
                                const PoisonColumns& rows);

// An unread "message" inbox entry, locked by the caller's transaction.
struct LockedMessageEntry {
  std::string id;
  json::object render;
  std::int64_t count = 1;
};

// Locks the unread message entry of each key of `keys` that has one (at most one
// per user and conversation), in the order of `keys`.
Task<Result<std::map<MessageInboxKey, LockedMessageEntry>>> LockMessageEntries(
    pg::Connection& c, const std::vector<MessageInboxKey>& keys);

// One round of message entry writes: merges into locked entries (u_: entry id,
// title, body, data JSON, render JSON, event id, latest message time; created_at
// never moves back) and new entries (i_: new UUIDv7 id, user id, and the same).
struct MessageEntryColumns {
  pg::ArrayBuilder u_id, u_title, u_body, u_data, u_render, u_event, u_at;
  pg::ArrayBuilder i_id, i_user, i_title, i_body, i_data, i_render, i_event, i_at;
};
// Runs the round's writes in one pipeline and returns the keys the insert wrote
// (a key whose entry another transaction created meanwhile is not among them).
Task<Result<std::set<MessageInboxKey>>> WriteMessageEntries(pg::Connection& c,
                                                            const MessageEntryColumns& rows);

}  // namespace tchat::notification
