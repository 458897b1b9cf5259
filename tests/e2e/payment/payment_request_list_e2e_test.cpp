// GET /v1/payment-requests through real HTTP against the running service: only
// the caller's requests, each direction and status, keyset pages with a cursor,
// and clear 400s for bad input.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "payment_fixture.hpp"

namespace tchat::payment::e2e {
namespace {

std::string Str(const json::value& v, const char* key) {
  return std::string(v.at(key).as_string());
}

class PaymentRequestListTest : public PaymentE2ETest {
 protected:
  // `requester` asks `payer` for `amount` THB; returns the request's id.
  std::string Ask(const User& requester, const User& payer, std::int64_t amount) {
    json::object body{{"from_user_id", payer.id}, {"amount", amount}, {"currency", "THB"}};
    ApiResponse r = Post("/v1/payment-requests", requester, json::serialize(body));
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.status == 201 ? Str(r.body, "id") : std::string();
  }

  // Every page of `query` for `u`, following next_cursor; the amounts in order.
  std::vector<std::int64_t> Amounts(const std::string& query, const User& u, int* pages = nullptr) {
    std::vector<std::int64_t> out;
    std::string cursor;
    int n = 0;
    for (;;) {
      std::string path = "/v1/payment-requests?" + query;
      if (!cursor.empty()) path += "&cursor=" + cursor;
      ApiResponse page = Get(path, u);
      EXPECT_EQ(page.status, 200) << page.raw;
      if (page.status != 200) break;
      ++n;
      for (const auto& r : page.body.at("payment_requests").as_array()) {
        // Only requests the caller is a party to.
        EXPECT_TRUE(Str(r, "from_user_id") == u.id || Str(r, "to_user_id") == u.id) << page.raw;
        out.push_back(r.at("amount").as_int64());
      }
      if (page.body.at("next_cursor").is_null()) break;
      cursor = Str(page.body, "next_cursor");
      if (n > 20) {
        ADD_FAILURE() << "the cursor never ends";
        break;
      }
    }
    if (pages) *pages = n;
    return out;
  }
};

TEST_F(PaymentRequestListTest, ListsOnlyTheCallersRequestsNewestFirstInPages) {
  User a = NewUser();
  User b = NewUser();
  User c = NewUser();
  Ask(b, a, 100);
  const std::string second = Ask(b, a, 200);
  Ask(b, a, 300);
  Ask(a, b, 400);
  Ask(c, b, 500);  // a is no party to it

  int pages = 0;
  EXPECT_EQ(Amounts("limit=2", a, &pages), (std::vector<std::int64_t>{400, 300, 200, 100}));
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(Amounts("direction=incoming&limit=1", a, &pages),
            (std::vector<std::int64_t>{300, 200, 100}));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(Amounts("direction=outgoing", a), (std::vector<std::int64_t>{400}));
  EXPECT_EQ(Amounts("direction=incoming", b), (std::vector<std::int64_t>{500, 400}));
  EXPECT_EQ(Amounts("direction=outgoing", b), (std::vector<std::int64_t>{300, 200, 100}));
  EXPECT_EQ(Amounts("", c), (std::vector<std::int64_t>{500}));
  EXPECT_TRUE(Amounts("direction=incoming", c).empty());

  // The status filter follows the request's life.
  ASSERT_EQ(Post("/v1/payment-requests/" + second + "/decline", a).status, 200);
  EXPECT_EQ(Amounts("direction=incoming&status=pending", a), (std::vector<std::int64_t>{300, 100}));
  EXPECT_EQ(Amounts("status=declined", a), (std::vector<std::int64_t>{200}));
  EXPECT_EQ(Amounts("status=declined", b), (std::vector<std::int64_t>{200}));
  EXPECT_TRUE(Amounts("status=paid", a).empty());
}

TEST_F(PaymentRequestListTest, RejectsBadInputAndStrangers) {
  User a = NewUser();
  EXPECT_EQ(Call("GET", "/v1/payment-requests", "").status, 401);
  for (const char* q : {"direction=sideways", "status=lost", "limit=0", "limit=201", "cursor=abc",
                        "cursor=12_notauuid", "cursor=_"}) {
    ApiResponse r = Get(std::string("/v1/payment-requests?") + q, a);
    EXPECT_EQ(r.status, 400) << q << ": " << r.raw;
    EXPECT_TRUE(r.body.is_object() && r.body.as_object().contains("error")) << q << ": " << r.raw;
  }
  ApiResponse empty = Get("/v1/payment-requests", a);
  ASSERT_EQ(empty.status, 200) << empty.raw;
  EXPECT_TRUE(empty.body.at("payment_requests").as_array().empty());
  EXPECT_TRUE(empty.body.at("next_cursor").is_null());
}

}  // namespace
}  // namespace tchat::payment::e2e
