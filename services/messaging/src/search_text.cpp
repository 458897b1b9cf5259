#include "search_text.hpp"

#include <algorithm>
#include <memory>

#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>

namespace tchat::messaging::search {

namespace {

std::string ToUtf8(const icu::UnicodeString& u) {
  std::string out;
  u.toUTF8String(out);
  return out;
}

// One word break iterator per thread (creating one loads the rules and
// dictionaries; cloning the first is cheap).
icu::BreakIterator& WordIterator() {
  thread_local std::unique_ptr<icu::BreakIterator> it;
  if (!it) {
    UErrorCode status = U_ZERO_ERROR;
    it.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status) || !it) std::abort();  // ICU's data is part of the library
  }
  return *it;
}

const icu::Normalizer2& Casefold() {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFKCCasefoldInstance(status);
  if (U_FAILURE(status) || n == nullptr) std::abort();
  return *n;
}

bool IsEmoji(UChar32 c) {
  return u_hasBinaryProperty(c, UCHAR_EXTENDED_PICTOGRAPHIC) ||
         u_hasBinaryProperty(c, UCHAR_REGIONAL_INDICATOR);
}

// A segment the word break iterator marked as punctuation or space, but which
// holds an emoji: a word too.
bool HasEmoji(const icu::UnicodeString& s) {
  for (int32_t i = 0; i < s.length(); i = s.moveIndex32(i, 1)) {
    const UChar32 c = s.char32At(i);
    if (IsEmoji(c) && c > 0x7F) return true;  // '#', '*' and digits are emoji components too
  }
  return false;
}

// Latin letters without their marks; đ, ð, ł and ø have no decomposition and are
// mapped by hand. Words with letters of another script are left alone (the marks
// of Thai or Devanagari are part of their spelling).
std::string StripLatinMarks(const icu::UnicodeString& word) {
  bool latin = false;
  bool ascii = true;
  for (int32_t i = 0; i < word.length(); i = word.moveIndex32(i, 1)) {
    const UChar32 c = word.char32At(i);
    if (c > 0x7F) ascii = false;
    UErrorCode st = U_ZERO_ERROR;
    const UScriptCode script = uscript_getScript(c, &st);
    if (script == USCRIPT_LATIN) {
      latin = true;
    } else if (script != USCRIPT_COMMON && script != USCRIPT_INHERITED) {
      return {};
    }
  }
  if (!latin || ascii) return {};
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return {};
  const icu::UnicodeString decomposed = nfd->normalize(word, status);
  icu::UnicodeString bare;
  for (int32_t i = 0; i < decomposed.length(); i = decomposed.moveIndex32(i, 1)) {
    UChar32 c = decomposed.char32At(i);
    if (u_charType(c) == U_NON_SPACING_MARK) continue;
    switch (c) {
      case 0x0111:  // đ
      case 0x00F0:  // ð
        c = 'd';
        break;
      case 0x0142:  // ł
        c = 'l';
        break;
      case 0x00F8:  // ø
        c = 'o';
        break;
      default:
        break;
    }
    bare.append(c);
  }
  const icu::UnicodeString composed = nfc->normalize(bare, status);
  if (U_FAILURE(status)) return {};
  return ToUtf8(composed);
}

bool IsGroupSeparator(UChar32 c) {
  return c == ',' || c == '.' || c == '\'' || c == 0x2019 || c == 0x00A0 || c == 0x202F ||
         c == 0x066C || c == '_';
}

// A number's digits (any script's, as ASCII) without its group and decimal
// separators; empty when `word` is not such a number.
std::string NumberDigits(const icu::UnicodeString& word) {
  std::string digits;
  bool separator = false;
  for (int32_t i = 0; i < word.length(); i = word.moveIndex32(i, 1)) {
    const UChar32 c = word.char32At(i);
    if (u_charType(c) == U_DECIMAL_DIGIT_NUMBER) {
      digits += static_cast<char>('0' + u_charDigitValue(c));
    } else if (IsGroupSeparator(c)) {
      separator = true;
    } else {
      return {};
    }
  }
  if (digits.empty()) return {};
  if (!separator && digits == ToUtf8(word)) return {};
  return digits;
}

}  // namespace

std::vector<Word> SplitWords(std::string_view text) {
  std::vector<Word> words;
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  icu::BreakIterator& it = WordIterator();
  it.setText(u);
  const icu::Normalizer2& fold = Casefold();
  int32_t start = it.first();
  for (int32_t end = it.next(); end != icu::BreakIterator::DONE; start = end, end = it.next()) {
    const int32_t status = it.getRuleStatus();
    icu::UnicodeString segment(u, start, end - start);
    if (status < UBRK_WORD_NONE_LIMIT && !HasEmoji(segment)) continue;
    UErrorCode err = U_ZERO_ERROR;
    const icu::UnicodeString folded = fold.normalize(segment, err);
    if (U_FAILURE(err) || folded.isEmpty()) continue;
    words.push_back(
        Word{ToUtf8(folded), static_cast<std::size_t>(start), static_cast<std::size_t>(end)});
  }
  it.setText(icu::UnicodeString());  // drop the reference to `u`
  return words;
}

std::vector<std::string> Variants(std::string_view term) {
  std::vector<std::string> out;
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(term.data(), static_cast<int32_t>(term.size())));
  if (std::string bare = StripLatinMarks(u); !bare.empty() && bare != term) {
    out.push_back(std::move(bare));
  }
  if (std::string digits = NumberDigits(u); !digits.empty() && digits != term) {
    out.push_back(std::move(digits));
  }
  return out;
}

std::vector<std::string> IndexTerms(std::string_view text) {
  std::vector<std::string> terms;
  for (Word& w : SplitWords(text)) {
    for (std::string& v : Variants(w.term)) {
      if (v.size() <= kMaxTermBytes) terms.push_back(std::move(v));
    }
    if (w.term.size() <= kMaxTermBytes) terms.push_back(std::move(w.term));
  }
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  return terms;
}

Query ParseQuery(std::string_view q) {
  Query out;
  std::vector<Word> words = SplitWords(q);
  if (words.empty()) return out;
  out.prefix = std::move(words.back().term);
  words.pop_back();
  for (Word& w : words) {
    if (std::find(out.words.begin(), out.words.end(), w.term) == out.words.end()) {
      out.words.push_back(std::move(w.term));
    }
  }
  return out;
}

std::vector<std::pair<std::size_t, std::size_t>> Highlights(std::string_view text,
                                                            const Query& query) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  const auto matches = [&query](const std::string& t) {
    if (!query.prefix.empty() && t.starts_with(query.prefix)) return true;
    return std::find(query.words.begin(), query.words.end(), t) != query.words.end();
  };
  for (const Word& w : SplitWords(text)) {
    bool hit = matches(w.term);
    if (!hit) {
      for (const std::string& v : Variants(w.term)) hit = hit || matches(v);
    }
    if (hit) out.emplace_back(w.begin, w.end);
  }
  return out;
}

}  // namespace tchat::messaging::search
