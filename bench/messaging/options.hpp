// Options of tchat-msg-loadgen (loadgen.cpp): "--key value" pairs after the mode.
#pragma once

#include <string>

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
};

// Prints "tchat-msg-loadgen: msg" and exits 1.
[[noreturn]] void Die(const std::string& msg);

// The mode (argv[1]) and options; dies on an unknown option or a missing value.
Options Parse(int argc, char** argv);

}  // namespace tchat::msgload
