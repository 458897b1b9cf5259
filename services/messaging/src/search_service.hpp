#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "model.hpp"
#include "search_store.hpp"
#include "search_text.hpp"
#include "user_limits.hpp"

namespace tchat::messaging {

// A query string as the API takes it: valid UTF-8, at most
// search::kMaxQueryChars characters and search::kMaxQueryWords words, at least
// one word. kInvalidArgument naming `q` otherwise.
Result<search::Query> ParseSearchQuery(const std::optional<std::string>& q);

struct MessageSearchHit {
  Message message;
  std::vector<std::pair<std::size_t, std::size_t>> highlights;  // UTF-16 [begin, end) of body
};

struct MessageSearchResult {
  std::vector<MessageSearchHit> results;
  std::optional<std::string> next_cursor;
};

// Message and conversation search for one worker (docs/api/openapi.yaml,
// /v1/search/*). Who finds what: a user searches the conversations they are a
// member of now, all of their history, as GET .../messages shows it to them;
// after leaving or being removed they find none of that conversation's messages
// (earlier ones included), as they can no longer read its history. Deleted
// messages never match. Every search counts against the user's search rate limit.
// Not thread-safe.
class SearchService {
 public:
  SearchService(PgSearchStore& store, UserLimits& limits) : store_(store), limits_(limits) {}

  // `cursor`: a next_cursor of an earlier answer (kInvalidArgument otherwise);
  // `conversation_id`: narrows to that conversation (not a UUID: kInvalidArgument;
  // one the user is not a member of finds nothing).
  Task<Result<MessageSearchResult>> Messages(const std::string& user_id, search::Query query,
                                             const std::optional<std::string>& conversation_id,
                                             const std::optional<std::string>& cursor, int limit);

  // The user's group conversations whose title matches `query` (the rules of
  // message search), most recently active first, at most `limit`.
  Task<Result<std::vector<Conversation>>> Conversations(const std::string& user_id,
                                                        const search::Query& query, int limit);

 private:
  PgSearchStore& store_;
  UserLimits& limits_;
};

}  // namespace tchat::messaging
