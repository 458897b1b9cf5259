#include "support.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "loadgen_options.hpp"

namespace tchat::msgload {

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// The send timestamp (µs) that the body starts with.
std::int64_t BodyStamp(std::string_view frame) {
  const auto pos = frame.find("\"body\":\"");
  if (pos == std::string_view::npos) return -1;
  std::int64_t v = 0;
  bool any = false;
  for (std::size_t i = pos + 8; i < frame.size() && frame[i] >= '0' && frame[i] <= '9'; ++i) {
    v = v * 10 + (frame[i] - '0');
    any = true;
  }
  return any ? v : -1;
}

long RssKiB(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

double Percentile(std::vector<std::int64_t>& v, double p) {
  if (v.empty()) return 0;
  const std::size_t k =
      std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

void ForEachParallel(boost::asio::io_context& io, int n, int parallel,
                     std::function<Task<bool>(client::ApiClient&, int)> make,
                     const std::string& url, const char* what) {
  std::atomic<int> next{0}, done{0}, failed{0};
  std::atomic<int> workers_left{parallel};
  for (int w = 0; w < parallel; ++w) {
    boost::asio::co_spawn(
        io,
        [&, w]() -> Task<void> {
          (void)w;
          client::ApiClient api(io.get_executor(), url);
          for (;;) {
            const int i = next.fetch_add(1);
            if (i >= n) break;
            if (!co_await make(api, i)) failed.fetch_add(1);
            done.fetch_add(1);
          }
          workers_left.fetch_sub(1);
        },
        boost::asio::detached);
  }
  while (workers_left.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (failed.load() > 0)
    tchat::msg_loadgen::Die(std::string(what) + ": " + std::to_string(failed.load()) + " failed");
}

}  // namespace tchat::msgload
