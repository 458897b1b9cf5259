#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <tchat/core/metrics.hpp>

namespace tchat::metrics {
namespace {

struct ProcStat {
  double cpu_seconds = 0;
  double start_time_seconds = 0;
  double virtual_bytes = 0;
  double resident_bytes = 0;
};

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double v = 0;
      in >> v;
      return v;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

ProcStat ReadProcStat() {
  ProcStat s;
  std::ifstream in("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name may contain spaces; fields resume after the last ')'.
  auto pos = content.rfind(')');
  if (pos == std::string::npos) return s;
  std::istringstream rest(content.substr(pos + 2));
  std::string field;
  // Fields after ')' start at number 3 (state). utime=14, stime=15, starttime=22, vsize=23, rss=24.
  unsigned long long utime = 0, stime = 0, starttime = 0, vsize = 0, rss = 0;
  for (int i = 3; i <= 24 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
    if (i == 22) starttime = std::stoull(field);
    if (i == 23) vsize = std::stoull(field);
    if (i == 24) rss = std::stoull(field);
  }
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  s.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  static const double boot = BootTimeSeconds();
  s.start_time_seconds = boot + static_cast<double>(starttime) / ticks;
  s.virtual_bytes = static_cast<double>(vsize);
  s.resident_bytes = static_cast<double>(rss) * page;
  return s;
}

double CountOpenFds() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  double n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') n += 1;
  }
  closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

}  // namespace

void RegisterProcessMetrics(Registry& registry) {
  auto& cpu = registry.AddCounter("process_cpu_seconds_total",
                                  "Total user and system CPU time spent in seconds.");
  auto& rss =
      registry.AddGauge("process_resident_memory_bytes", "Resident memory size in bytes.").With({});
  auto& vms =
      registry.AddGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").With({});
  auto& fds = registry.AddGauge("process_open_fds", "Number of open file descriptors.").With({});
  auto& max_fds =
      registry.AddGauge("process_max_fds", "Maximum number of open file descriptors.").With({});
  auto& start = registry
                    .AddGauge("process_start_time_seconds",
                              "Start time of the process since unix epoch in seconds.")
                    .With({});
  auto& cpu_series = cpu.With({});
  registry.AddCollector([&] {
    ProcStat s = ReadProcStat();
    cpu_series.Mirror(s.cpu_seconds);
    rss.Set(s.resident_bytes);
    vms.Set(s.virtual_bytes);
    start.Set(s.start_time_seconds);
    fds.Set(CountOpenFds());
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) max_fds.Set(static_cast<double>(rl.rlim_cur));
  });
}

}  // namespace tchat::metrics
