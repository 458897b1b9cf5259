#include "support.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace tchat::msgload {

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "tchat-msg-loadgen: %s\n", msg.c_str());
  std::exit(1);
}

Options Parse(int argc, char** argv) {
  Options o;
  if (argc < 2) Die("usage: tchat-msg-loadgen MODE --url URL --key-file KEYS [options]");
  o.mode = argv[1];
  for (int i = 2; i < argc; i += 2) {
    std::string k = argv[i];
    if (i + 1 >= argc) Die("missing value for " + k);
    std::string v = argv[i + 1];
    auto num = [&] { return std::atoi(v.c_str()); };
    if (k == "--url")
      o.url = v;
    else if (k == "--key-file")
      o.key_file = v;
    else if (k == "--clients")
      o.clients = num();
    else if (k == "--window")
      o.window = num();
    else if (k == "--rate")
      o.rate = std::atof(v.c_str());
    else if (k == "--duration")
      o.duration = num();
    else if (k == "--warmup")
      o.warmup = num();
    else if (k == "--groups")
      o.groups = num();
    else if (k == "--members")
      o.members = num();
    else if (k == "--connections")
      o.connections = num();
    else if (k == "--sources")
      o.sources = num();
    else if (k == "--server-pid")
      o.server_pid = num();
    else if (k == "--hold")
      o.hold = num();
    else if (k == "--threads")
      o.threads = num();
    else if (k == "--body-bytes")
      o.body_bytes = num();
    else if (k == "--tick-us")
      o.tick_us = num();
    else if (k == "--samples-file")
      o.samples_file = v;
    else if (k == "--cpu-pids")
      o.cpu_pids = v;
    else
      Die("unknown option " + k);
  }
  if (o.key_file.empty()) Die("--key-file is required");
  return o;
}

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

}  // namespace tchat::msgload
