#include "options.hpp"

#include <cstdio>
#include <cstdlib>

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
    else
      Die("unknown option " + k);
  }
  if (o.key_file.empty()) Die("--key-file is required");
  return o;
}

}  // namespace tchat::msgload
