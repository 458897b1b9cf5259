#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <tchat/core/metrics.hpp>

namespace tchat::metrics {
namespace {

// Checks every line against the text exposition format 0.0.4 grammar: comments
// are HELP/TYPE, samples are name{labels} value, and every sample belongs to the
// most recent TYPE declaration (histograms via _bucket/_sum/_count).
void ExpectValidExposition(const std::string& text) {
  static const std::regex kHelp(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$)");
  std::istringstream in(text);
  std::string line, current, type;
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.rfind("# HELP", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, kHelp)) << line;
    } else if (std::regex_match(line, m, kType)) {
      current = m[1];
      type = m[2];
    } else {
      ASSERT_TRUE(std::regex_match(line, m, kSample)) << "bad sample line: " << line;
      std::string name = m[1];
      if (type == "histogram") {
        EXPECT_TRUE(name == current + "_bucket" || name == current + "_sum" ||
                    name == current + "_count")
            << line;
      } else {
        EXPECT_EQ(name, current) << line;
      }
    }
  }
}

TEST(MetricsTest, CounterGaugeHistogramExposition) {
  Registry r;
  auto& req =
      r.AddCounter("http_requests_total", "Requests.", {"service", "method", "route", "status"});
  req.With({"auth", "GET", "/v1/users/{id}", "200"}).Inc();
  req.With({"auth", "GET", "/v1/users/{id}", "200"}).Inc(2);
  req.With({"auth", "POST", "/v1/auth/otp/request", "429"}).Inc();
  r.AddGauge("db_pool_connections", "Pool.", {"state"}).With({"idle"}).Set(3);
  auto& h = r.AddHistogram("http_request_duration_seconds", "Latency.", {"route"}, {0.1, 1});
  h.With({"/x"}).Observe(0.05);
  h.With({"/x"}).Observe(0.5);
  h.With({"/x"}).Observe(5);

  std::string text = r.Expose();
  ExpectValidExposition(text);
  EXPECT_NE(text.find("# TYPE http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("http_requests_total{service=\"auth\",method=\"GET\",route=\"/v1/users/"
                      "{id}\",status=\"200\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("db_pool_connections{state=\"idle\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("http_request_duration_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("http_request_duration_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("http_request_duration_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("http_request_duration_seconds_sum{route=\"/x\"} 5.55\n"), std::string::npos);
  EXPECT_NE(text.find("http_request_duration_seconds_count{route=\"/x\"} 3\n"), std::string::npos);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Registry r;
  r.AddCounter("odd_total", "Odd.", {"v"}).With({"a\"b\\c\nd"}).Inc();
  std::string text = r.Expose();
  ExpectValidExposition(text);
  EXPECT_NE(text.find(R"(odd_total{v="a\"b\\c\nd"} 1)"), std::string::npos) << text;
}

TEST(MetricsTest, SameNameReturnsSameFamily) {
  Registry r;
  auto& a = r.AddCounter("x_total", "X.", {"k"});
  auto& b = r.AddCounter("x_total", "X.", {"k"});
  EXPECT_EQ(&a, &b);
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  Registry r;
  auto& fam = r.AddCounter("c_total", "C.", {"k"});
  auto& hist = r.AddHistogram("h_seconds", "H.", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        fam.With({"a"}).Inc();
        hist.With({}).Observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(fam.With({"a"}).Value(), 40000);
  EXPECT_EQ(hist.With({}).Count(), 40000u);
  EXPECT_DOUBLE_EQ(hist.With({}).Sum(), 20000);
}

TEST(MetricsTest, ProcessMetricsHaveRunbookNames) {
  Registry r;
  RegisterProcessMetrics(r);
  std::string text = r.Expose();
  ExpectValidExposition(text);
  for (const char* name :
       {"process_resident_memory_bytes ", "process_cpu_seconds_total ", "process_open_fds ",
        "process_start_time_seconds ", "process_max_fds "}) {
    EXPECT_NE(text.find(std::string("\n") + name), std::string::npos) << name << "\n" << text;
  }
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter"), std::string::npos);
}

}  // namespace
}  // namespace tchat::metrics
