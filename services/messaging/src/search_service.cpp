#include "search_service.hpp"

#include <algorithm>

#include <tchat/core/utf8.hpp>
#include <tchat/core/uuid.hpp>

namespace tchat::messaging {

namespace {

constexpr std::string_view kCursorPrefix = "m1.";

// Does `text` match `query`: every word among its terms, one term starting with
// the prefix?
bool TextMatches(std::string_view text, const search::Query& query) {
  const std::vector<std::string> terms = search::IndexTerms(text);
  for (const std::string& w : query.words) {
    if (!std::binary_search(terms.begin(), terms.end(), w)) return false;
  }
  const auto first = std::lower_bound(terms.begin(), terms.end(), query.prefix);
  return first != terms.end() && first->starts_with(query.prefix);
}

}  // namespace

Result<search::Query> ParseSearchQuery(const std::optional<std::string>& q) {
  if (!q || q->empty()) return Error::InvalidArgument("q is required");
  if (!ValidUtf8(*q)) return Error::InvalidArgument("q is not valid UTF-8");
  if (CodePoints(*q) > search::kMaxQueryChars) {
    return Error::InvalidArgument("q is longer than 200 characters");
  }
  search::Query query = search::ParseQuery(*q);
  if (query.prefix.empty()) return Error::InvalidArgument("q has no word to search for");
  if (query.words.size() + 1 > search::kMaxQueryWords) {
    return Error::InvalidArgument("q has more than 8 words");
  }
  return query;
}

Task<Result<MessageSearchResult>> SearchService::Messages(
    const std::string& user_id, search::Query query,
    const std::optional<std::string>& conversation_id, const std::optional<std::string>& cursor,
    int limit) {
  MessageSearch s;
  s.user_id = user_id;
  s.limit = limit;
  if (conversation_id) {
    s.conversation_id = CanonicalUuid(*conversation_id);
    if (!s.conversation_id) co_return Error::InvalidArgument("conversation_id is not a UUID");
  }
  if (cursor) {
    if (cursor->starts_with(kCursorPrefix)) {
      s.before_id = CanonicalUuid(std::string_view(*cursor).substr(kCursorPrefix.size()));
    }
    if (!s.before_id) co_return Error::InvalidArgument("cursor is not valid");
  }
  if (Status st = co_await limits_.Admit(UserLimits::Kind::kSearch, user_id); !st) {
    co_return std::move(st).error();
  }
  s.query = std::move(query);
  auto page = co_await store_.Messages(s);
  if (!page) co_return std::move(page).error();
  MessageSearchResult out;
  out.results.reserve(page->messages.size());
  for (Message& m : page->messages) {
    MessageSearchHit hit;
    hit.highlights = search::Highlights(m.body, s.query);
    hit.message = std::move(m);
    out.results.push_back(std::move(hit));
  }
  if (page->has_more && !out.results.empty()) {
    out.next_cursor = std::string(kCursorPrefix) + out.results.back().message.id;
  }
  co_return out;
}

Task<Result<std::vector<Conversation>>> SearchService::Conversations(const std::string& user_id,
                                                                     const search::Query& query,
                                                                     int limit) {
  if (Status st = co_await limits_.Admit(UserLimits::Kind::kSearch, user_id); !st) {
    co_return std::move(st).error();
  }
  auto rows = co_await store_.TitledGroups(user_id);
  if (!rows) co_return std::move(rows).error();
  std::vector<pgrows::ConversationRow> hits;
  for (pgrows::ConversationRow& r : *rows) {
    if (static_cast<int>(hits.size()) >= limit) break;
    if (r.conversation.title && TextMatches(*r.conversation.title, query)) {
      hits.push_back(std::move(r));
    }
  }
  co_return co_await store_.Load(user_id, std::move(hits));
}

}  // namespace tchat::messaging
