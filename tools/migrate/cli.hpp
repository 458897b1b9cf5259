#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/result.hpp>

#include "driver.hpp"

namespace tchat::migrate {

// Command line of tchat-migrate, shaped like golang-migrate's CLI:
//   tchat-migrate [-path DIR | -source file://DIR] -database URL [-lock-timeout SECONDS]
//                 [-verbose] COMMAND [ARGS]
// Flags take "-name value", "-name=value" or "--name"; flags stop at the first
// non-flag argument (the command) or at "--".
struct Options {
  std::string path;
  std::string database;
  std::chrono::seconds lock_timeout{15};
  bool verbose = false;
  bool help = false;
  bool print_version = false;
  std::vector<std::string> command;  // command name, then its arguments
};

// Parses `args` (without the program name). Errors describe the bad flag.
Result<Options> ParseOptions(std::span<const std::string> args);

// The usage text, as printed by -help.
std::string UsageText();

// Opens the database for a command; replaced in tests.
using DriverFactory = std::function<Result<std::unique_ptr<Driver>>(
    const std::string& url, std::chrono::milliseconds lock_timeout)>;

// Runs one invocation. Progress and errors go to `err` ("error: ..."), the answer
// of `version` to `out`; `in` answers the confirmation prompt of a bare `down`.
// Returns the process exit code: 0 success (including "no change"), 1 failure,
// 2 bad usage.
int RunCli(std::span<const std::string> args, std::ostream& out, std::ostream& err,
           std::istream& in, const DriverFactory& open_driver);

// The production factory: PostgresDriver.
DriverFactory PostgresDriverFactory();

}  // namespace tchat::migrate
