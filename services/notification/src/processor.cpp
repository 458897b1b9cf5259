#include "processor.hpp"

#include <map>
#include <optional>
#include <unordered_set>
#include <variant>

#include <tchat/core/log.hpp>
#include <tchat/core/pg/array.hpp>
#include <tchat/core/uuid.hpp>

#include "audience.hpp"
#include "event_store.hpp"
#include "events.hpp"
#include "message_inbox.hpp"
#include "metrics.hpp"
#include "stream_entry.hpp"

namespace tchat::notification {

namespace {

// User ids as PostgreSQL prints uuids (events may spell them in upper case), so
// that they match the rows the database returns.
std::string LowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// The entries of a batch, triaged before anything is read or written.
struct TriagedEntries {
  std::vector<std::string> ack_ids;  // every entry of the batch
  std::vector<ParsedEntry> events;   // to process
  std::vector<PoisonEntry> poison;
  std::size_t ignored = 0;  // trimmed, or of a type this service ignores
};

TriagedEntries Triage(const std::vector<redis::StreamEntry>& entries) {
  TriagedEntries out;
  for (const auto& e : entries) {
    out.ack_ids.push_back(e.id);
    if (e.fields.empty()) {  // trimmed (XDEL/MAXLEN) while pending: nothing to do
      ++out.ignored;
      continue;
    }
    PoisonEntry p;
    auto parsed = ParseEntry(e, p);
    if (!parsed) {
      out.poison.push_back(std::move(p));
      continue;
    }
    if (parsed->kind == EventKind::kIgnored) {
      ++out.ignored;
      continue;
    }
    out.events.push_back(std::move(*parsed));
  }
  return out;
}

// What a batch counted, for the metrics once it has committed.
struct Counts {
  std::map<std::string, std::size_t> by_type;      // processed
  std::map<std::string, std::size_t> dup_by_type;  // already processed
  std::map<std::string, std::size_t> suppressed;   // by reason
  std::size_t inbox = 0;
};

// The events' ids.
std::vector<std::string> EventIds(const std::vector<ParsedEntry>& events) {
  std::vector<std::string> ids;
  ids.reserve(events.size());
  for (const ParsedEntry& p : events) ids.push_back(p.env.id);
  return ids;
}

// The events whose ids processed_events had not seen (`fresh`: the ids its
// insert returned), each id once; the others count as duplicates.
std::vector<const ParsedEntry*> FreshEvents(const std::vector<ParsedEntry>& events,
                                            const std::unordered_set<std::string>& fresh,
                                            Counts& counts) {
  std::vector<const ParsedEntry*> to_apply;
  std::unordered_set<std::string> taken;  // the same id twice in one batch
  for (const ParsedEntry& p : events) {
    if (fresh.contains(p.env.id) && taken.insert(p.env.id).second) {
      to_apply.push_back(&p);
      ++counts.by_type[std::string(TypeLabel(p))];
    } else {
      ++counts.dup_by_type[std::string(TypeLabel(p))];
    }
  }
  return to_apply;
}

// The rules for one event.
Plan PlanEvent(const ParsedEntry& p, Audience& audience, SysTime now, const RuleOptions& options) {
  if (const auto* m = std::get_if<MessageCreated>(&p.decoded)) {
    return PlanMessage(p.env, *m, audience.ViewFor(&m->conversation_id), now, options);
  }
  if (const auto* pay = std::get_if<PaymentEvent>(&p.decoded)) {
    return PlanPayment(p.env, *pay, audience.ViewFor(nullptr), now, options);
  }
  if (const auto* pc = std::get_if<PasswordChanged>(&p.decoded)) {
    return PlanPasswordChanged(p.env, *pc, audience.ViewFor(nullptr), now, options);
  }
  if (const auto* otp = std::get_if<OtpRequested>(&p.decoded)) {
    std::optional<Locale> user_locale;
    if (!otp->user_id.empty()) {
      auto it = audience.users.find(otp->user_id);
      if (it != audience.users.end()) user_locale = it->second.view.settings.locale;
    }
    return PlanOtp(p.env, *otp, user_locale, now);
  }
  return Plan{};
}

// What a batch's plans ask to write, column by column (message inbox entries
// apart: WriteMessageInbox merges them), and the deliveries to send as soon as
// the batch commits.
class BatchRows {
 public:
  explicit BatchRows(bool collapse) : collapse_(collapse) {}

  // Adds what `plan`, the rules' answer to `p`, asks for.
  void Add(const ParsedEntry& p, Plan& plan, Audience& audience, Counts& counts,
           std::vector<QueuedDelivery>& send_now) {
    for (const auto& s : plan.suppressed) ++counts.suppressed[s.reason];
    for (auto& item : plan.inbox) {
      ++counts.inbox;
      if (!item.collapse_key.empty()) {
        Absorb(message_inbox_[{LowerAscii(item.user_id), item.collapse_key}], item.render, p.env.id,
               UnixMillis(p.env.occurred_at));
        continue;
      }
      AddInbox(p, item);
    }
    for (auto& push : plan.pushes) {
      if (push.collapsible && collapse_) {
        AddWaiting(p, push);
        continue;
      }
      send_now.push_back(AddPush(p, push, audience.users[push.user_id].devices));
    }
    for (auto& sms : plan.sms) send_now.push_back(AddSms(p, sms));
  }

  std::map<MessageInboxKey, MessageInbox>& message_inbox() { return message_inbox_; }
  bool has_waiting() const { return !waiting_.empty(); }

  // The inserts of inbox entries and deliveries, and the collapse windows' upsert.
  std::vector<pg::Statement> Statements(double lease_ms, double window_ms) const {
    std::vector<pg::Statement> st;
    if (inbox_.id.size() > 0) st.push_back(InsertInboxEntries(inbox_));
    if (sending_.id.size() > 0) st.push_back(InsertSendingDeliveries(sending_, lease_ms));
    if (!waiting_.empty()) {
      WaitingColumns w;
      for (const auto& [key, wait] : waiting_) {  // sorted: a stable lock order
        w.id.Add(NewUuidV7());
        w.user.Add(key.first);
        w.collapse_key.Add(key.second);
        w.payload.Add(wait.payload);
        w.count.Add(std::to_string(wait.count));
        w.event.Add(wait.event_id);
      }
      st.push_back(UpsertWaitingDeliveries(w, window_ms));
    }
    return st;
  }

 private:
  // A push waiting for its collapse window, with those it absorbed.
  struct Waiting {
    std::string payload;
    std::pair<std::int64_t, std::int64_t> order;  // (seq, event_at) of payload
    int count = 0;
    std::string event_id;
  };

  void AddInbox(const ParsedEntry& p, const InboxItem& item) {
    // Inbox order is event order (a backlog keeps its chronology).
    inbox_.id.Add(NewUuidV7At(p.env.occurred_at));
    inbox_.at.Add(FormatRfc3339Ms(p.env.occurred_at));
    inbox_.user.Add(item.user_id);
    inbox_.kind.Add(item.kind);
    inbox_.title.Add(item.title);
    inbox_.body.Add(item.body);
    inbox_.data.Add(ToJson(item.data));
    inbox_.event.Add(p.env.id);
  }

  void AddWaiting(const ParsedEntry& p, const PushItem& push) {
    Waiting& w = waiting_[{push.user_id, push.collapse_key}];
    const auto order =
        std::make_pair(push.payload.at("seq").as_int64(), push.payload.at("event_at").as_int64());
    if (w.count == 0 || order >= w.order) {
      w.payload = ToJson(push.payload);
      w.order = order;
    }
    w.count += 1;
    w.event_id = p.env.id;
  }

  QueuedDelivery AddPush(const ParsedEntry& p, PushItem& push, const std::vector<Device>& devs) {
    QueuedDelivery q;
    q.id = NewUuidV7();
    q.channel = "push";
    q.user_id = push.user_id;
    q.event_id = p.env.id;
    std::vector<std::string> dev_ids;
    for (const auto& d : devs) dev_ids.push_back(d.id);
    sending_.id.Add(q.id);
    sending_.channel.Add("push");
    sending_.user.Add(push.user_id);
    sending_.collapse_key.Add(push.collapse_key);
    sending_.payload.Add(ToJson(push.payload));
    sending_.device_ids.Add(pg::ToArray(dev_ids));
    sending_.event.Add(p.env.id);
    q.payload = std::move(push.payload);
    q.device_ids = std::move(dev_ids);
    q.devices = devs;
    return q;
  }

  QueuedDelivery AddSms(const ParsedEntry& p, SmsItem& sms) {
    QueuedDelivery q;
    q.id = NewUuidV7();
    q.channel = "sms";
    q.event_id = p.env.id;
    sending_.id.Add(q.id);
    sending_.channel.Add("sms");
    sending_.user.Add("");
    sending_.collapse_key.Add("");
    sending_.payload.Add(ToJson(sms.payload));
    sending_.device_ids.AddNull();
    sending_.event.Add(p.env.id);
    q.payload = std::move(sms.payload);
    return q;
  }

  bool collapse_;
  InboxColumns inbox_;
  SendingColumns sending_;
  std::map<std::pair<std::string, std::string>, Waiting> waiting_;
  std::map<MessageInboxKey, MessageInbox> message_inbox_;
};

pg::Statement PoisonStatement(const std::string& stream, const std::vector<PoisonEntry>& poison) {
  PoisonColumns rows;
  for (const PoisonEntry& p : poison) {
    rows.entry_id.Add(p.entry_id);
    rows.event_id.Add(p.event_id);
    rows.type.Add(p.type);
    rows.reason.Add(p.reason);
    rows.raw.Add(p.raw);
  }
  return InsertPoisonEvents(stream, rows);
}

// Removes the push devices of the sessions these events end; nullopt when none do.
std::optional<pg::Statement> SessionDevicesStatement(
    const std::vector<const ParsedEntry*>& to_apply) {
  pg::ArrayBuilder users, sessions;
  for (const ParsedEntry* p : to_apply) {
    if (const auto* s = std::get_if<SessionRevoked>(&p->decoded)) {
      users.Add(s->user_id);
      sessions.Add(s->session_id);
    }
  }
  if (users.size() == 0) return std::nullopt;
  return DeleteSessionDevices(users, sessions);
}

// Removes what is kept for the users these events delete; nullopt when none.
std::optional<pg::Statement> DeletedUsersStatement(
    const std::vector<const ParsedEntry*>& to_apply) {
  pg::ArrayBuilder users;
  for (const ParsedEntry* p : to_apply) {
    if (const auto* u = std::get_if<UserDeleted>(&p->decoded)) users.Add(u->user_id);
  }
  if (users.size() == 0) return std::nullopt;
  return DeleteUsersData(users);
}

// What a batch's transaction works from (each attempt anew).
struct BatchInput {
  const Config& settings;
  const std::string& stream;
  const TriagedEntries& triaged;
  const std::unordered_set<std::string>& online;
  SysTime now;
};

// The batch's transaction: de-duplicate, read what the rules need, apply them,
// write. `counts` is set afresh.
Task<Result<BatchResult>> RunBatch(pg::Connection& c, const BatchInput& in, Counts& counts) {
  counts = Counts{};
  BatchResult out;
  out.ack_ids = in.triaged.ack_ids;
  // 1. De-duplicate by event id.
  std::vector<const ParsedEntry*> to_apply;
  if (!in.triaged.events.empty()) {
    auto d = co_await MarkEventsProcessed(c, in.settings.group, EventIds(in.triaged.events));
    if (!d) co_return std::move(d).error();
    to_apply = FreshEvents(in.triaged.events, *d, counts);
  }

  // 2. What is known about the users these events name.
  Audience audience;
  std::vector<std::string> users;
  std::vector<std::string> conversations;
  NamedUsers(to_apply, in.online, users, conversations);
  if (!users.empty()) {
    if (Status a = co_await LoadAudience(c, users, conversations, audience); !a) {
      co_return std::move(a).error();
    }
  }
  for (const auto& u : in.online) audience.users[u].view.online = true;

  // 3. The rules.
  const RuleOptions rule_options{in.settings.max_push_age};
  BatchRows rows(in.settings.collapse_window.count() > 0);
  for (const ParsedEntry* p : to_apply) {
    Plan plan = PlanEvent(*p, audience, in.now, rule_options);
    rows.Add(*p, plan, audience, counts, out.send_now);
  }

  // 4. Writes: message inbox entries first (they need the entries that
  // exist), then the rest in one round trip.
  if (!rows.message_inbox().empty()) {
    if (Status mi = co_await WriteMessageInbox(c, std::move(rows.message_inbox())); !mi) {
      co_return std::move(mi).error();
    }
  }
  std::vector<pg::Statement> st =
      rows.Statements(static_cast<double>(in.settings.send_lease.count()),
                      static_cast<double>(in.settings.collapse_window.count()));
  out.has_waiting = rows.has_waiting();
  if (!in.triaged.poison.empty()) st.push_back(PoisonStatement(in.stream, in.triaged.poison));
  if (auto gone = SessionDevicesStatement(to_apply)) st.push_back(std::move(*gone));
  // Last: also what this batch's own rules just wrote for a deleted user goes.
  if (auto gone = DeletedUsersStatement(to_apply)) st.push_back(std::move(*gone));
  if (!st.empty()) {
    auto w = co_await c.Pipeline(std::move(st));
    if (!w) co_return std::move(w).error();
  }
  co_return out;
}

// The metrics of a committed batch, and a log line per poison entry.
void RecordBatch(const std::string& stream, const Counts& counts, const TriagedEntries& triaged) {
  Metrics& metrics = Metrics::Get();
  for (const auto& [type, n] : counts.by_type) {
    metrics.events.With({stream, type, "processed"}).Inc(static_cast<double>(n));
  }
  for (const auto& [type, n] : counts.dup_by_type) {
    metrics.events.With({stream, type, "duplicate"}).Inc(static_cast<double>(n));
  }
  if (triaged.ignored > 0) {
    metrics.events.With({stream, "other", "ignored"}).Inc(static_cast<double>(triaged.ignored));
  }
  if (!triaged.poison.empty()) {
    metrics.events.With({stream, "other", "poison"})
        .Inc(static_cast<double>(triaged.poison.size()));
    for (const PoisonEntry& p : triaged.poison) {
      log::Warn("poison event recorded", {{"stream", stream},
                                          {"entry_id", p.entry_id},
                                          {"event_id", p.event_id},
                                          {"reason", p.reason}});
    }
  }
  for (const auto& [reason, n] : counts.suppressed) {
    metrics.suppressed.With({reason}).Inc(static_cast<double>(n));
  }
  if (counts.inbox > 0) metrics.inbox.Inc(static_cast<double>(counts.inbox));
}

}  // namespace

Task<Status> EventProcessor::RecordPoison(std::string_view stream, const redis::StreamEntry& entry,
                                          std::string_view reason) {
  PoisonEntry p;
  (void)ParseEntry(entry, p);
  const std::string s(stream);
  PoisonColumns rows;
  rows.entry_id.Add(entry.id);
  rows.event_id.Add(p.event_id);
  rows.type.Add(p.type);
  rows.reason.Add(SafeText(reason));
  rows.raw.Add(p.raw);
  if (Status r = co_await RecordPoisonEvents(pool_, s, rows); !r) co_return r;
  Metrics::Get().events.With({s, "other", "poison"}).Inc();
  co_return Ok();
}

Task<Result<BatchResult>> EventProcessor::Process(std::string_view stream_view,
                                                  const std::vector<redis::StreamEntry>& entries) {
  const std::string stream(stream_view);
  const TriagedEntries triaged = Triage(entries);
  // Presence of message recipients, read before the transaction so that no
  // database connection waits on Redis.
  auto online = co_await OnlineRecipients(redis_, settings_.presence_prefix, triaged.events);
  if (!online) co_return std::move(online).error();
  const BatchInput in{settings_, stream, triaged, *online, std::chrono::system_clock::now()};
  Counts counts;
  const auto lease_from = std::chrono::steady_clock::now();
  auto tx = co_await pool_.Transaction(pg::IsolationLevel::kReadCommitted,
                                       [&](pg::Connection& c) { return RunBatch(c, in, counts); });
  if (!tx) co_return std::move(tx).error();
  for (auto& q : tx->send_now) q.lease_until = lease_from + settings_.send_lease;
  RecordBatch(stream, counts, triaged);
  co_return std::move(*tx);
}

}  // namespace tchat::notification
