// Options and small helpers of tchat-msg-loadgen (loadgen.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tchat::msgload {

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
  std::string samples_file;
  std::string cpu_pids;
};

// Prints "tchat-msg-loadgen: msg" and exits 1.
[[noreturn]] void Die(const std::string& msg);

// The mode (argv[1]) and options; dies on an unknown option or a missing value.
Options Parse(int argc, char** argv);

bool StartsWith(std::string_view s, std::string_view p);

// The send timestamp (µs) that a message frame's body starts with; -1 without one.
std::int64_t BodyStamp(std::string_view frame);

// The resident memory of process `pid` (KiB), -1 if unknown.
long RssKiB(int pid);

// The p-quantile (0..1) of `v` (µs) in ms; reorders v.
double Percentile(std::vector<std::int64_t>& v, double p);

}  // namespace tchat::msgload
