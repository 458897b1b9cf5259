#pragma once

// Service processes that a test starts itself (private instances with settings of
// their own, crash and restart tests).

#include <csignal>
#include <string>
#include <vector>

#include <sys/types.h>

namespace tchat::e2e {

// A child process with exactly the environment given ("KEY=value" entries). Its
// stdout and stderr go to `log` (appended), or, when `log` is empty, stdout to
// /dev/null and stderr to the test's. None of the test's descriptors leak into it
// (a socket the test closes really closes). Stopped with SIGTERM when destroyed.
// Not thread-safe, except that one other thread may Stop() and Start() it while
// the test's event loop runs.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(std::vector<std::string> argv, std::vector<std::string> env, std::string log = {})
      : argv_(std::move(argv)), env_(std::move(env)), log_(std::move(log)) {}
  ~ChildProcess() { Stop(SIGTERM); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts it with these settings, which a later Start() reuses.
  bool Start(std::vector<std::string> argv, std::vector<std::string> env, std::string log = {});
  // Starts it (again) with the last settings; false when fork fails.
  bool Start();
  // Sends `sig` and reaps the child; after 20 s without an exit, SIGKILL. No-op when
  // it is not running.
  void Stop(int sig);
  void Signal(int sig);
  bool running() const { return pid_ > 0; }
  // Non-blocking: true once the child has exited (and is reaped).
  bool Reaped();

 private:
  std::vector<std::string> argv_;
  std::vector<std::string> env_;
  std::string log_;
  pid_t pid_ = -1;
};

// A loopback port that was free a moment ago.
int FreePort();

}  // namespace tchat::e2e
