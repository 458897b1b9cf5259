#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include <tchat/core/httpclient/exchange_recorder.hpp>
#include <tchat/core/json.hpp>

namespace tchat::httpclient {
namespace {

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The recorder reads TCHAT_CONTRACT_RECORD once per process: this is the only
// test of the binary that calls Get(), and it sets the variable first.
TEST(ExchangeRecorderTest, AppendsWholeJsonLinesFromManyThreads) {
  const std::string path =
      ::testing::TempDir() + "exchanges-" + std::to_string(::getpid()) + ".jsonl";
  std::remove(path.c_str());
  ASSERT_EQ(::setenv("TCHAT_CONTRACT_RECORD", path.c_str(), 1), 0);
  ExchangeRecorder* rec = ExchangeRecorder::Get();
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(ExchangeRecorder::Get(), rec);

  rec->Http("POST", "/v1/transfers?x=1", 201, "application/json", R"({"id":"t"})");
  rec->WsFrame(true, R"({"type":"ping"})");
  auto lines = Lines(path);
  ASSERT_EQ(lines.size(), 2u);
  const json::value http = json::parse(lines[0]);
  EXPECT_EQ(http.at("kind"), "http");
  EXPECT_EQ(http.at("method"), "POST");
  EXPECT_EQ(http.at("target"), "/v1/transfers?x=1");
  EXPECT_EQ(http.at("status"), 201);
  EXPECT_EQ(http.at("content_type"), "application/json");
  EXPECT_EQ(http.at("body"), R"({"id":"t"})");
  const json::value ws = json::parse(lines[1]);
  EXPECT_EQ(ws.at("direction"), "send");
  EXPECT_EQ(ws.at("frame"), R"({"type":"ping"})");

  // Large lines from several threads at once: each lands whole.
  constexpr int kThreads = 6, kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([rec, t] {
      const std::string body(100000, static_cast<char>('a' + t));
      for (int i = 0; i < kEach; ++i) rec->WsFrame(false, body);
    });
  }
  for (auto& th : threads) th.join();
  lines = Lines(path);
  ASSERT_EQ(lines.size(), 2u + kThreads * kEach);
  for (std::size_t i = 2; i < lines.size(); ++i) {
    json::error_code ec;
    const json::value v = json::parse(lines[i], ec);
    ASSERT_FALSE(ec) << "line " << i << " is not whole";
    const std::string frame(v.at("frame").as_string());
    ASSERT_EQ(frame.size(), 100000u);
    EXPECT_EQ(frame.find_first_not_of(frame[0]), std::string::npos) << "line " << i << " is mixed";
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace tchat::httpclient
