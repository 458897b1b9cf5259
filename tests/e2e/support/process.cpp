#include "support/process.hpp"

#include <chrono>
#include <thread>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tchat::e2e {

bool ChildProcess::Start(std::vector<std::string> argv, std::vector<std::string> env,
                         std::string log) {
  argv_ = std::move(argv);
  env_ = std::move(env);
  log_ = std::move(log);
  return Start();
}

bool ChildProcess::Start() {
  // Everything the child needs is prepared before fork: it only makes system calls.
  std::vector<char*> args, envp;
  for (auto& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  for (auto& e : env_) envp.push_back(e.data());
  envp.push_back(nullptr);
  const char* out = log_.empty() ? "/dev/null" : log_.c_str();
  const int flags = log_.empty() ? O_WRONLY : O_WRONLY | O_CREAT | O_APPEND;
  pid_ = ::fork();
  if (pid_ < 0) return false;
  if (pid_ == 0) {
    const int fd = ::open(out, flags, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      if (!log_.empty()) ::dup2(fd, 2);
    }
    for (int i = 3; i < 65536; ++i) ::close(i);
    ::execvpe(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  return true;
}

void ChildProcess::Stop(int sig) {
  if (pid_ <= 0) return;
  ::kill(pid_, sig);
  for (int i = 0; i < 400; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

bool ChildProcess::Reaped() {
  if (pid_ <= 0) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
  return pid_ <= 0;
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace tchat::e2e
