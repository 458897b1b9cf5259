// The word splitter of message search on real sentences of the region's languages.
#include "search_text.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "search_store.hpp"

namespace tchat::messaging::search {
namespace {

std::vector<std::string> Terms(std::string_view text) {
  std::vector<std::string> out;
  for (Word& w : SplitWords(text)) out.push_back(std::move(w.term));
  return out;
}

bool Has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Does a document match a query (the rule the SQL applies to index terms)?
bool Matches(std::string_view document, std::string_view query) {
  const std::vector<std::string> terms = IndexTerms(document);
  const Query q = ParseQuery(query);
  if (q.prefix.empty()) return false;
  for (const std::string& w : q.words) {
    if (!std::binary_search(terms.begin(), terms.end(), w)) return false;
  }
  return std::any_of(terms.begin(), terms.end(),
                     [&](const std::string& t) { return t.starts_with(q.prefix); });
}

TEST(SearchText, ThaiWithoutSpacesIsSplitIntoWords) {
  // "I want to eat noodles at the shop near the house"
  const auto t = Terms("ฉันอยากกินก๋วยเตี๋ยวที่ร้านใกล้บ้าน");
  EXPECT_TRUE(Has(t, "ฉัน"));
  EXPECT_TRUE(Has(t, "อยาก"));
  EXPECT_TRUE(Has(t, "กิน"));
  EXPECT_TRUE(Has(t, "ร้าน"));
  EXPECT_TRUE(Has(t, "บ้าน"));
  EXPECT_GE(t.size(), 7u);
  EXPECT_TRUE(Matches("พรุ่งนี้เจอกันที่ร้านกาแฟนะ", "ร้าน"));
  EXPECT_TRUE(Matches("พรุ่งนี้เจอกันที่ร้านกาแฟนะ", "กาแฟ"));
  EXPECT_FALSE(Matches("พรุ่งนี้เจอกันที่ร้านกาแฟนะ", "โรงเรียน"));
}

TEST(SearchText, ThaiAmountWithGroupSeparatorsMatchesDigits) {
  const std::string doc = "โอนให้แล้ว 1,250 บาท ค่าอาหารเมื่อวาน";
  EXPECT_TRUE(Matches(doc, "1250"));
  EXPECT_TRUE(Matches(doc, "1,250"));
  EXPECT_TRUE(Matches(doc, "1250 บาท"));
  EXPECT_TRUE(Matches(doc, "บาท"));
  EXPECT_FALSE(Matches(doc, "2500"));
}

TEST(SearchText, VietnameseMatchesWithAndWithoutToneMarks) {
  const std::string doc = "Tối nay mình đi ăn phở bò ở đường Lê Lợi nhé";
  EXPECT_TRUE(Matches(doc, "pho bo"));
  EXPECT_TRUE(Matches(doc, "phở bò"));
  EXPECT_TRUE(Matches(doc, "duong le loi"));
  EXPECT_TRUE(Matches(doc, "Đường"));
  EXPECT_TRUE(Matches(doc, "TỐI NAY"));
  // A query with marks asks for that spelling.
  EXPECT_FALSE(Matches("bán pho mát", "phở"));
  EXPECT_TRUE(Matches("bán pho mát", "pho"));
  const auto t = Terms("Cảm ơn bạn nhiều");
  EXPECT_EQ(t, (std::vector<std::string>{"cảm", "ơn", "bạn", "nhiều"}));
  EXPECT_EQ(Variants("nhiều"), std::vector<std::string>{"nhieu"});
  EXPECT_EQ(Variants("đ"), std::vector<std::string>{"d"});
}

TEST(SearchText, IndonesianMalayFilipinoEnglish) {
  EXPECT_TRUE(Matches("Besok kita ngopi di Kopi Kenangan jam 3 ya", "kopi"));
  EXPECT_TRUE(Matches("Besok kita ngopi di Kopi Kenangan jam 3 ya", "kenang"));
  EXPECT_TRUE(Matches("Saya sudah bayar RM50 untuk tiket bas ke Johor Bahru", "johor bahru"));
  EXPECT_TRUE(Matches("Saya sudah bayar RM50 untuk tiket bas ke Johor Bahru", "rm50"));
  EXPECT_TRUE(Matches("Salamat po sa tulong ninyo kahapon!", "salamat po"));
  EXPECT_TRUE(Matches("Kumain ka na ba? Tara, kain tayo sa Jollibee.", "jollibee"));
  EXPECT_TRUE(Matches("Let's meet at the MRT station at 7:30pm", "mrt stat"));
  EXPECT_FALSE(Matches("Let's meet at the MRT station at 7:30pm", "train"));
  // Case folding and NFKC: full-width letters and ligatures are plain letters.
  EXPECT_TRUE(Matches("ＫＯＰＩ ﬁnal", "kopi final"));
}

TEST(SearchText, LastWordIsAPrefixOthersAreWhole) {
  EXPECT_TRUE(Matches("transfer the deposit tomorrow", "transfer dep"));
  EXPECT_FALSE(Matches("transfer the deposit tomorrow", "trans deposit"));
  const Query q = ParseQuery("  Phở,  bò!!  ");
  EXPECT_EQ(q.words, std::vector<std::string>{"phở"});
  EXPECT_EQ(q.prefix, "bò");
  EXPECT_TRUE(ParseQuery(" ,.!? ").prefix.empty());
}

TEST(SearchText, MixedScriptsAndEmoji) {
  const std::string doc = "ไปกิน phở กันไหม 🍜🍜 at 7pm? 👍";
  const auto t = Terms(doc);
  EXPECT_TRUE(Has(t, "ไป"));
  EXPECT_TRUE(Has(t, "กิน"));
  EXPECT_TRUE(Has(t, "phở"));
  EXPECT_TRUE(Has(t, "👍"));
  EXPECT_TRUE(Matches(doc, "🍜"));
  EXPECT_TRUE(Matches(doc, "pho 👍"));
  EXPECT_TRUE(Matches("新年快乐 Selamat Tahun Baru", "selamat"));
  EXPECT_TRUE(Matches("ສະບາຍດີ ເຈົ້າເປັນແນວໃດ", "ສະບາຍດີ"));
}

TEST(SearchText, HighlightsAreUtf16RangesOfTheOriginal) {
  // "ร้าน" starts at UTF-16 offset 0 (Thai letters are one unit each); the emoji
  // takes two units.
  const std::string doc = "🍜 Phở bò ngon";
  const auto h = Highlights(doc, ParseQuery("pho bo"));
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0], (std::pair<std::size_t, std::size_t>{3, 6}));
  EXPECT_EQ(h[1], (std::pair<std::size_t, std::size_t>{7, 9}));
  const auto th = Highlights("จ่าย 1,250 บาท", ParseQuery("1250"));
  ASSERT_EQ(th.size(), 1u);
  EXPECT_EQ(th[0], (std::pair<std::size_t, std::size_t>{5, 10}));
}

TEST(SearchText, BadAndLongInputIsHarmless) {
  const std::string bad = std::string("ab\xff\xfe") + "cd";
  EXPECT_NO_THROW(IndexTerms(bad));
  EXPECT_TRUE(IndexTerms("").empty());
  EXPECT_TRUE(IndexTerms(std::string(5000, 'a')).empty());  // one word too long to index
}

TEST(SearchText, PaymentAndSystemMessagesAreSearchableByTheirText) {
  const json::object payment{{"kind", "transfer"}, {"currency", "THB"}, {"amount", 125000}};
  const auto p = MessageSearchTerms("ค่าข้าว 1,250 บาท", payment, std::nullopt);
  EXPECT_TRUE(std::binary_search(p.begin(), p.end(), "thb"));
  EXPECT_TRUE(std::binary_search(p.begin(), p.end(), "1250"));
  EXPECT_TRUE(std::binary_search(p.begin(), p.end(), "ข้าว"));
  const json::object renamed{{"action", "title_changed"}, {"title", "Kopi Lovers"}};
  const auto t = MessageSearchTerms("", std::nullopt, renamed);
  EXPECT_EQ(t, (std::vector<std::string>{"kopi", "lovers"}));
  const json::object left{{"action", "member_left"}, {"user_id", "x"}};
  EXPECT_TRUE(MessageSearchTerms("", std::nullopt, left).empty());
}

}  // namespace
}  // namespace tchat::messaging::search
