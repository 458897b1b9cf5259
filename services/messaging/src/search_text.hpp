#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

// The words of message search (docs/api/openapi.yaml, /v1/search/messages). One
// splitter for documents and queries, so that both see the same words:
//  - ICU's word break iterator (root locale) finds the words; it segments Thai,
//    Lao, Khmer, Burmese and CJK with its dictionaries, other scripts at spaces
//    and punctuation. Segments that are neither letters, numbers, kana, ideographs
//    nor emoji (spaces, punctuation) are not words.
//  - Each word is normalised with NFKC and Unicode case folding (ICU nfkc_cf).
//  - Index terms are every word, plus, for words written in Latin letters with
//    diacritics, the word without them ("phở" -> "pho", "đường" -> "duong"), plus,
//    for numbers with separators, the digits alone ("1,250" -> "1250").
//  - A query word with diacritics matches only that spelling; one without them
//    matches every spelling (the stripped term is indexed for all of them).
// Offsets are UTF-16 code units into the original text (what JavaScript strings
// index), so that a web client can highlight without converting.
namespace tchat::messaging::search {

struct Word {
  std::string term;   // normalised (NFKC + case folding), UTF-8
  std::size_t begin;  // UTF-16 offset of the word in the original text
  std::size_t end;    // exclusive
};

// The words of `text` in order. Invalid UTF-8 is replaced (U+FFFD) first.
std::vector<Word> SplitWords(std::string_view text);

// The other index terms of one normalised word: its spelling without Latin
// diacritics and, for a number, its digits without separators. Each differs from
// `term`; empty when there is none.
std::vector<std::string> Variants(std::string_view term);

// The sorted, distinct index terms of a document (every word and its variants).
// Terms longer than kMaxTermBytes are dropped (they are not words anyone types).
inline constexpr std::size_t kMaxTermBytes = 100;
std::vector<std::string> IndexTerms(std::string_view text);

// A parsed query: `words` must all be among a document's terms; the last query
// word is `prefix` instead (a document term must start with it).
struct Query {
  std::vector<std::string> words;
  std::string prefix;
};

// Limits: at most kMaxQueryChars code points and kMaxQueryWords words.
inline constexpr std::size_t kMaxQueryChars = 200;
inline constexpr std::size_t kMaxQueryWords = 8;

// Empty when the query has no word at all.
Query ParseQuery(std::string_view q);

// The ranges of `text`'s words that match `query` (a term or a variant equal to a
// query word, or starting with its prefix), as [begin, end) UTF-16 offsets.
std::vector<std::pair<std::size_t, std::size_t>> Highlights(std::string_view text,
                                                            const Query& query);

}  // namespace tchat::messaging::search
