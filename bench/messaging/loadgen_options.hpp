// tchat-msg-loadgen's command line (bench/messaging/loadgen.cpp describes the
// options): the options and their parsing.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace tchat::msg_loadgen {

struct Options {
  std::string mode;
  std::string url = "http://127.0.0.1:8082";
  std::string key_file;
  int clients = 64;
  int window = 32;
  double rate = 1000;
  int duration = 10;
  int warmup = 3;
  int groups = 5;
  int members = 100;
  int connections = 1000;
  int sources = 1;
  int server_pid = 0;
  int hold = 5;
  int threads = 1;
  int body_bytes = 64;
  int tick_us = 1000;
  int start_delay = 0, linger = 0;
  bool stamp_at_write = false;
  std::string samples_file;
  std::string cpu_pids;
};

[[noreturn]] inline void Die(const std::string& msg) {
  std::fprintf(stderr, "tchat-msg-loadgen: %s\n", msg.c_str());
  std::exit(1);
}

inline Options Parse(int argc, char** argv) {
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
    else if (k == "--start-delay")
      o.start_delay = num();
    else if (k == "--linger")
      o.linger = num();
    else if (k == "--stamp-at-write")
      o.stamp_at_write = num() != 0;
    else if (k == "--cpu-pids")
      o.cpu_pids = v;
    else
      Die("unknown option " + k);
  }
  if (o.key_file.empty()) Die("--key-file is required");
  return o;
}

}  // namespace tchat::msg_loadgen
