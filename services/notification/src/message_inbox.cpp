#include "message_inbox.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>

#include "event_store.hpp"
#include "rules.hpp"

namespace tchat::notification {

namespace {

// Message entries (kind "message"): at most one unread entry per user and
// conversation (migration 000003). The batch's messages are merged into the
// entries that exist, locked first (LockMessageEntries) so that the merge
// (count, latest message) is computed from what is committed and nobody changes
// it meanwhile; keys go in sorted order, so concurrent batches lock in the same
// order.

// The writes of one round: merges into the entries that exist, and new entries.
class RoundWrites {
 public:
  void Merge(const LockedMessageEntry& e, const MessageInbox& m) {
    // The entry shows the latest message, whichever batch brought it.
    const bool newer = e.render.empty() || m.order >= MessageOrder(e.render);
    const json::object& render = newer ? m.render : e.render;
    MessageInboxText text = RenderMessageInbox(render, e.count + m.count);
    rows_.u_id.Add(e.id);
    rows_.u_title.Add(text.title);
    rows_.u_body.Add(text.body);
    rows_.u_data.Add(ToJson(text.data));
    rows_.u_render.Add(ToJson(render));
    rows_.u_event.Add(m.event_id);
    rows_.u_at.Add(FormatRfc3339Ms(m.latest_at_ms));
  }

  void Create(const MessageInboxKey& key, const MessageInbox& m) {
    MessageInboxText text = RenderMessageInbox(m.render, m.count);
    rows_.i_id.Add(NewUuidV7At(FromUnixMillis(m.latest_at_ms)));
    rows_.i_user.Add(key.first);
    rows_.i_title.Add(text.title);
    rows_.i_body.Add(text.body);
    rows_.i_data.Add(ToJson(text.data));
    rows_.i_render.Add(ToJson(m.render));
    rows_.i_event.Add(m.event_id);
    rows_.i_at.Add(FormatRfc3339Ms(m.latest_at_ms));
  }

  const MessageEntryColumns& rows() const { return rows_; }

 private:
  MessageEntryColumns rows_;
};

// The keys of `pending` that a round wrote nowhere: no entry was locked for them
// and the insert (which wrote `inserted`) met an entry created meanwhile.
std::map<MessageInboxKey, MessageInbox> Unwritten(
    std::map<MessageInboxKey, MessageInbox>& pending,
    const std::map<MessageInboxKey, LockedMessageEntry>& existing,
    const std::set<MessageInboxKey>& inserted) {
  std::map<MessageInboxKey, MessageInbox> again;
  for (auto& [key, m] : pending) {
    if (!existing.contains(key) && !inserted.contains(key)) again.emplace(key, std::move(m));
  }
  return again;
}

}  // namespace

void Absorb(MessageInbox& into, const json::object& payload, std::string_view event_id,
            std::int64_t at_ms) {
  const auto order = MessageOrder(payload);
  if (into.count == 0 || order >= into.order) {
    into.render = payload;
    into.order = order;
    into.event_id = std::string(event_id);
  }
  into.count += 1;
  into.latest_at_ms = std::max(into.latest_at_ms, at_ms);
}

Task<Status> WriteMessageInbox(pg::Connection& c, std::map<MessageInboxKey, MessageInbox> pending) {
  // Each round either writes every key or finds entries created concurrently
  // since its lock query; a handful of rounds means something keeps racing.
  for (int round = 0; round < 5 && !pending.empty(); ++round) {
    std::vector<MessageInboxKey> keys;
    keys.reserve(pending.size());
    for (const auto& [key, m] : pending) keys.push_back(key);
    auto locked = co_await LockMessageEntries(c, keys);
    if (!locked) co_return std::move(locked).error();
    const std::map<MessageInboxKey, LockedMessageEntry>& existing = *locked;
    RoundWrites writes;
    for (const auto& [key, m] : pending) {
      if (auto it = existing.find(key); it != existing.end()) {
        writes.Merge(it->second, m);
      } else {
        writes.Create(key, m);
      }
    }
    auto inserted = co_await WriteMessageEntries(c, writes.rows());
    if (!inserted) co_return std::move(inserted).error();
    std::map<MessageInboxKey, MessageInbox> again = Unwritten(pending, existing, *inserted);
    pending = std::move(again);
  }
  if (!pending.empty()) {
    co_return Error::Unavailable("message inbox entries kept changing; the batch will be retried");
  }
  co_return Ok();
}

}  // namespace tchat::notification
