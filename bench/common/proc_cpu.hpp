// CPU time of whole process trees, read from /proc, for the load generators of
// bench/*_bench.sh: "CPU-µs per operation, all server processes together"
// (service, PostgreSQL with its backends, Redis, nginx), without the load
// generator's own cost.
//
// A tree is a root pid and its live descendants. Each process counts its own
// utime + stime and the cutime + cstime of the children it has reaped, so a
// PostgreSQL backend that exits during the window still counts (in the
// postmaster's cutime) and a live one counts once. Beside the CPU, the time
// the trees' threads spent runnable but waiting for a core (the run-queue wait of
// /proc/PID/task/TID/schedstat, live threads only) says how much of a latency
// tail is the machine's other load rather than the work. Header-only: the load
// generators link different libraries.
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <unistd.h>

namespace tchat::bench {

// "12,34,56" -> {12, 34, 56}; empty or malformed entries are left out.
inline std::vector<int> ParsePids(std::string_view csv) {
  std::vector<int> out;
  std::string item;
  std::istringstream in{std::string(csv)};
  while (std::getline(in, item, ',')) {
    const int pid = std::atoi(item.c_str());
    if (pid > 0) out.push_back(pid);
  }
  return out;
}

struct ProcTimes {
  int ppid = 0;
  long long ticks = 0;  // utime + stime + cutime + cstime
};

// One /proc/PID/stat; false when the process is gone.
inline bool ReadProcTimes(int pid, ProcTimes& t) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 > line.size()) return false;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  t = ProcTimes{};
  // Field 3 is the state; ppid is 4, utime..cstime are 14..17.
  for (int i = 3; i <= 17 && rest >> field; ++i) {
    if (i == 4) t.ppid = std::atoi(field.c_str());
    if (i >= 14) t.ticks += std::atoll(field.c_str());
  }
  return true;
}

// Nanoseconds the threads of process `pid` have waited on a run queue.
inline long long RunQueueWaitNs(int pid) {
  long long ns = 0;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream in(dir + "/" + e->d_name + "/schedstat");
      long long on_cpu = 0, waiting = 0;
      if (in >> on_cpu >> waiting) ns += waiting;
    }
    ::closedir(d);
  }
  return ns;
}

struct TreeSample {
  double cpu_seconds = 0;
  double wait_seconds = 0;       // run-queue wait of the live threads
  std::vector<double> per_root;  // cpu_seconds of each root's tree, in order
};

// CPU used so far by the trees rooted at `roots`, and their run-queue wait.
inline TreeSample SampleTrees(const std::vector<int>& roots) {
  TreeSample out;
  if (roots.empty()) return out;
  std::map<int, ProcTimes> all;
  if (DIR* d = ::opendir("/proc")) {
    while (const dirent* e = ::readdir(d)) {
      const int pid = std::atoi(e->d_name);
      ProcTimes t;
      if (pid > 0 && ReadProcTimes(pid, t)) all.emplace(pid, t);
    }
    ::closedir(d);
  }
  std::multimap<int, int> children;
  for (const auto& [pid, t] : all) children.emplace(t.ppid, pid);
  const auto hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::map<int, bool> seen;
  for (const int root : roots) {
    long long ticks = 0;
    std::vector<int> pending{root};
    while (!pending.empty()) {
      const int pid = pending.back();
      pending.pop_back();
      if (seen[pid]) continue;
      seen[pid] = true;
      const auto it = all.find(pid);
      if (it == all.end()) continue;
      ticks += it->second.ticks;
      out.wait_seconds += static_cast<double>(RunQueueWaitNs(pid)) / 1e9;
      const auto [lo, hi] = children.equal_range(pid);
      for (auto c = lo; c != hi; ++c) pending.push_back(c->second);
    }
    out.per_root.push_back(static_cast<double>(ticks) / hz);
    out.cpu_seconds += out.per_root.back();
  }
  return out;
}

inline double TreeCpuSeconds(const std::vector<int>& roots) {
  return SampleTrees(roots).cpu_seconds;
}

// Measures the trees' CPU between Start() and Stop().
class TreeCpu {
 public:
  explicit TreeCpu(std::vector<int> roots) : roots_(std::move(roots)) {}
  bool enabled() const { return !roots_.empty(); }
  void Start() { start_ = SampleTrees(roots_); }
  // CPU seconds since Start(); the run-queue wait is then wait_seconds().
  double Stop() {
    const TreeSample now = SampleTrees(roots_);
    wait_ = now.wait_seconds - start_.wait_seconds;
    per_root_.clear();
    for (std::size_t i = 0; i < now.per_root.size() && i < start_.per_root.size(); ++i) {
      per_root_.push_back(now.per_root[i] - start_.per_root[i]);
    }
    return now.cpu_seconds - start_.cpu_seconds;
  }
  double wait_seconds() const { return wait_; }
  // µs per operation of each root's tree, "a/b/c" in the order of the roots.
  std::string PerRootUs(double ops) const {
    std::string out;
    for (const double s : per_root_) {
      if (!out.empty()) out += '/';
      out += std::to_string(static_cast<long long>(UsPerOp(s, ops) + 0.5));
    }
    return out.empty() ? "-" : out;
  }
  // µs of CPU per operation, or 0 without roots or operations.
  static double UsPerOp(double cpu_seconds, double ops) {
    return ops > 0 ? cpu_seconds * 1e6 / ops : 0;
  }

 private:
  std::vector<int> roots_;
  TreeSample start_;
  double wait_ = 0;
  std::vector<double> per_root_;
};

}  // namespace tchat::bench
