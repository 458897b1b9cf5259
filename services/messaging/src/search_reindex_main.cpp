// tchat-search-reindex: fills messages.search_terms (and search_vocab) for
// messages written before migration 000006, or for every message with --all
// (after a change to the word splitter, services/messaging/src/search_text.hpp);
// the terms it writes hold the conversation key (migration 000010). With --keys
// it adds instead that key to the terms of messages indexed before migration
// 000010 (run it once after that migration; they are not found until then).
//
//   tchat-search-reindex [--all | --keys] [--batch N] [--pause-ms N]
//   DATABASE_URL: the messaging database (a libpq URI), as the service reads it.
//
// Works on a live table without blocking sends: it walks messages by primary key
// in batches (keyset, no long scan or cursor held open), each batch its own short
// transaction that locks only the rows it rewrites. A row changed since it was
// read (an edit, a deletion, a reaction: its change_xid moved) is left alone;
// an edit wrote its own terms, and the others are found by the next run
// (--all not needed: they are still without terms). Prints what it did; exit 1 on
// a database error (what was committed stays; running again resumes the work).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <libpq-fe.h>

#include <tchat/core/json.hpp>
#include <tchat/core/pg/array.hpp>

#include "search_store.hpp"

namespace {

using tchat::json::object;

struct Options {
  bool all = false;
  bool keys = false;
  int batch = 1000;
  int pause_ms = 0;
};

struct Conn {
  PGconn* c = nullptr;
  ~Conn() {
    if (c != nullptr) PQfinish(c);
  }
};

struct Res {
  PGresult* r = nullptr;
  ~Res() {
    if (r != nullptr) PQclear(r);
  }
};

bool Exec(PGconn* c, const char* sql, const std::vector<std::string>& params, Res& out) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  out.r = PQexecParams(c, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                       nullptr, 0);
  const ExecStatusType st = PQresultStatus(out.r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    std::fprintf(stderr, "tchat-search-reindex: %s", PQerrorMessage(c));
    return false;
  }
  return true;
}

std::optional<object> JsonColumn(PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return std::nullopt;
  boost::system::error_code ec;
  tchat::json::value v = tchat::json::parse(PQgetvalue(r, row, col), ec);
  if (ec || !v.is_object()) return std::nullopt;
  return v.as_object();
}

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--all") {
      o.all = true;
    } else if (a == "--keys") {
      o.keys = true;
    } else if ((a == "--batch" || a == "--pause-ms") && i + 1 < argc) {
      const int v = std::atoi(argv[++i]);
      if (v < 0 || (a == "--batch" && (v < 1 || v > 100000))) return false;
      (a == "--batch" ? o.batch : o.pause_ms) = v;
    } else {
      return false;
    }
  }
  return !(o.all && o.keys);
}

// One batch of --keys after (conversation, seq) (kBackfillKeysSql). Returns the
// messages read (0: done), or -1.
int KeysBatch(PGconn* c, const Options& o, std::string& conversation, std::string& seq,
              long long& added) {
  Res r;
  if (!Exec(c, tchat::messaging::kBackfillKeysSql, {conversation, seq, std::to_string(o.batch)},
            r)) {
    return -1;
  }
  const int n = std::atoi(PQgetvalue(r.r, 0, 0));
  if (n == 0) return 0;
  conversation = PQgetvalue(r.r, 0, 1);
  seq = PQgetvalue(r.r, 0, 2);
  added += std::atoll(PQgetvalue(r.r, 0, 3));
  return n;
}

// One batch after (conversation, seq): reads, computes the terms, writes them.
// Returns the rows read (0: done), or -1 on an error.
int Batch(PGconn* c, const Options& o, std::string& conversation, std::string& seq,
          long long& updated) {
  const std::string sql =
      std::string(
          "SELECT conversation_id, seq, body, payment, meta, change_xid FROM messages "
          "WHERE (conversation_id, seq) > ($1::uuid, $2::bigint) AND NOT deleted") +
      (o.all ? "" : " AND search_terms IS NULL") + " ORDER BY conversation_id, seq LIMIT $3";
  Res rows;
  if (!Exec(c, sql.c_str(), {conversation, seq, std::to_string(o.batch)}, rows)) return -1;
  const int n = PQntuples(rows.r);
  if (n == 0) return 0;
  tchat::pg::ArrayBuilder convs, seqs, terms, xids, vocab;
  for (int i = 0; i < n; ++i) {
    const std::vector<std::string> t = tchat::messaging::MessageSearchTerms(
        PQgetvalue(rows.r, i, 2), JsonColumn(rows.r, i, 3), JsonColumn(rows.r, i, 4));
    convs.Add(PQgetvalue(rows.r, i, 0));
    seqs.Add(PQgetvalue(rows.r, i, 1));
    xids.Add(PQgetvalue(rows.r, i, 5));
    terms.Add(tchat::pg::ToArray(t));
    for (const std::string& term : t) vocab.Add(term);
  }
  conversation = PQgetvalue(rows.r, n - 1, 0);
  seq = PQgetvalue(rows.r, n - 1, 1);
  // The vocabulary first, in its own statement (a transaction of its own: sends
  // add terms after their conversation's lock; this holds no other lock).
  Res v;
  if (!Exec(c, tchat::messaging::kAddVocabularySql, {vocab.str()}, v)) return -1;
  Res u;
  if (!Exec(c,
            "UPDATE messages m SET search_terms = array_prepend("
            "search_conversation_key(m.conversation_id), u.terms::text[]) FROM unnest($1::uuid[], "
            "$2::bigint[], $3::text[], $4::xid8[]) AS u(c, s, terms, x) "
            "WHERE m.conversation_id = u.c AND m.seq = u.s AND m.change_xid = u.x "
            "AND NOT m.deleted",
            {convs.str(), seqs.str(), terms.str(), xids.str()}, u)) {
    return -1;
  }
  updated += std::atoll(PQcmdTuples(u.r));
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: tchat-search-reindex [--all | --keys] [--batch N] [--pause-ms N]\n");
    return 2;
  }
  const char* url = std::getenv("DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    std::fprintf(stderr, "tchat-search-reindex: DATABASE_URL is not set\n");
    return 2;
  }
  Conn conn;
  conn.c = PQconnectdb(url);
  if (PQstatus(conn.c) != CONNECTION_OK) {
    std::fprintf(stderr, "tchat-search-reindex: %s", PQerrorMessage(conn.c));
    return 1;
  }
  // Every batch's rows are found by primary key: without these, a plan that
  // scans the whole table per batch (a hash join) can look cheaper.
  Res settings;
  if (!Exec(conn.c,
            "SELECT set_config('enable_hashjoin', 'off', false), "
            "set_config('enable_mergejoin', 'off', false), set_config('enable_seqscan', 'off', "
            "false)",
            {}, settings)) {
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  std::string conversation = "00000000-0000-0000-0000-000000000000", seq = "0";
  long long read = 0, updated = 0;
  for (;;) {
    const int n = o.keys ? KeysBatch(conn.c, o, conversation, seq, updated)
                         : Batch(conn.c, o, conversation, seq, updated);
    if (n < 0) return 1;
    if (n == 0) break;
    read += n;
    if (o.pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.pause_ms));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (o.keys) {
    std::printf("tchat-search-reindex --keys: %lld messages read, %lld keys added, %.1f s\n", read,
                updated, s);
    return 0;
  }
  std::printf(
      "tchat-search-reindex: %lld messages read, %lld indexed, %lld changed meanwhile "
      "(left alone), %.1f s\n",
      read, updated, read - updated, s);
  return 0;
}
