// Benchmark of media::ProcessImage (services/messaging/src/media_process.hpp) on a
// 12-megapixel JPEG of about 1 MiB, against the anchor `vips thumbnail FILE OUT 1600`
// (the libvips command line, Debian package libvips-tools) on the same file in the
// same run, rounds interleaved so that both see the same machine. Prints wall and
// CPU milliseconds per image and the ratio ours / anchor. Not a test: asserts nothing.
//
// ProcessImage does more than the anchor: the display size (≤ 1600) the anchor makes,
// plus the thumbnail (320), the placeholder, stripping and two files. The anchor pays
// for starting a process each time; its start-up alone (the same command on a 16×16
// JPEG) and the bare in-process vips_thumbnail + save are printed too, for reading
// the ratio.
//
//   tchat-media-bench [--rounds N] [--keep DIR]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vips/vips.h>

#include "src/media_process.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
namespace media = tchat::messaging::media;

struct Sample {
  double wall_ms = 0;
  double cpu_ms = 0;
};

double CpuMs(int who) {
  rusage ru{};
  getrusage(who, &ru);
  auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  return ms(ru.ru_utime) + ms(ru.ru_stime);
}

// Runs fn once; CPU of this process (all threads) or of waited-for children.
Sample Measure(int who, const std::function<bool()>& fn) {
  const double cpu0 = CpuMs(who);
  const auto t0 = std::chrono::steady_clock::now();
  if (!fn()) {
    std::fprintf(stderr, "media_process_bench: a round failed\n");
    std::exit(1);
  }
  const auto t1 = std::chrono::steady_clock::now();
  return {std::chrono::duration<double, std::milli>(t1 - t0).count(), CpuMs(who) - cpu0};
}

bool Run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return false;
  int status = 0;
  return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// A photo-like 4000×3000 JPEG (smooth noise in colour, some grain) near 1 MiB.
bool MakePhoto(const std::string& path) {
  VipsImage *r = nullptr, *g = nullptr, *b = nullptr, *grain = nullptr;
  if (vips_perlin(&r, 4000, 3000, "cell_size", 400, "seed", 1, nullptr) ||
      vips_perlin(&g, 4000, 3000, "cell_size", 250, "seed", 2, nullptr) ||
      vips_perlin(&b, 4000, 3000, "cell_size", 600, "seed", 3, nullptr) ||
      vips_gaussnoise(&grain, 4000, 3000, "sigma", 6.0, "mean", 0.0, nullptr)) {
    return false;
  }
  VipsImage* bands[] = {r, g, b};
  VipsImage *rgb = nullptr, *scaled = nullptr, *noisy = nullptr, *photo = nullptr;
  bool ok = vips_bandjoin(bands, &rgb, 3, nullptr) == 0 &&
            vips_linear1(rgb, &scaled, 110.0, 128.0, nullptr) == 0 &&
            vips_add(scaled, grain, &noisy, nullptr) == 0 &&
            vips_cast(noisy, &photo, VIPS_FORMAT_UCHAR, nullptr) == 0;
  double best = 1e18;
  for (int q = 95; ok && q >= 40; q -= 5) {  // the quality whose size is nearest 1 MiB
    void* buf = nullptr;
    size_t len = 0;
    ok = vips_jpegsave_buffer(photo, &buf, &len, "Q", q, nullptr) == 0;
    g_free(buf);
    const double off = std::abs(static_cast<double>(len) - 1048576.0);
    if (ok && off < best) {
      best = off;
      ok = vips_jpegsave(photo, path.c_str(), "Q", q, nullptr) == 0;
    }
  }
  for (VipsImage* im : {r, g, b, grain, rgb, scaled, noisy, photo}) {
    if (im != nullptr) g_object_unref(im);
  }
  return ok;
}

bool BareThumbnail(const std::string& src, const std::string& out) {
  VipsImage* img = nullptr;
  if (vips_thumbnail(src.c_str(), &img, 1600, "size", VIPS_SIZE_DOWN, nullptr) != 0) return false;
  const bool ok = vips_jpegsave(img, out.c_str(), nullptr) == 0;
  g_object_unref(img);
  return ok;
}

void Print(const char* name, std::vector<Sample> s) {
  std::vector<double> wall;
  for (const auto& x : s) wall.push_back(x.wall_ms);
  std::sort(wall.begin(), wall.end());
  const double mean = std::accumulate(wall.begin(), wall.end(), 0.0) / wall.size();
  double cpu = 0;
  for (const auto& x : s) cpu += x.cpu_ms;
  std::printf("  %-38s wall %7.1f ms median %7.1f ms mean   CPU %7.1f ms\n", name,
              wall[wall.size() / 2], mean, cpu / s.size());
}

double Median(std::vector<Sample> s, bool cpu) {
  std::vector<double> v;
  for (const auto& x : s) v.push_back(cpu ? x.cpu_ms : x.wall_ms);
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 15;
  std::string keep;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) {
      rounds = std::clamp(std::atoi(argv[++i]), 3, 200);
    } else if (a == "--keep" && i + 1 < argc) {
      keep = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--rounds N (3..200)] [--keep DIR]\n", argv[0]);
      return 2;
    }
  }
  if (!media::InitMediaProcessing().ok()) return 1;
  std::string tmpl = (fs::temp_directory_path() / "media_bench_XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return 1;
  const fs::path dir = keep.empty() ? fs::path(tmpl) : fs::path(keep);
  fs::create_directories(dir / "ours");
  const std::string photo = (dir / "photo.jpg").string(), tiny = (dir / "tiny.jpg").string();
  if (!MakePhoto(photo) || !Run({"vips", "black", tiny, "16", "16", "--bands", "3"})) return 1;
  const std::string anchor_out = (dir / "anchor.jpg").string();
  const std::vector<std::string> anchor = {"vips", "thumbnail", photo, anchor_out,
                                           "1600", "--size",    "down"};
  const std::vector<std::string> startup = {"vips", "thumbnail", tiny, anchor_out, "16"};
  const media::Limits limits;
  auto ours = [&] { return media::ProcessImage(photo, (dir / "ours").string(), limits).ok(); };
  auto bare = [&] { return BareThumbnail(photo, (dir / "bare.jpg").string()); };
  // Warm-up: page cache, libvips modules, the CPU's clocks.
  Measure(RUSAGE_SELF, ours), Measure(RUSAGE_CHILDREN, [&] { return Run(anchor); });
  std::vector<Sample> s_ours, s_anchor, s_startup, s_bare;
  for (int i = 0; i < rounds; ++i) {
    s_ours.push_back(Measure(RUSAGE_SELF, ours));
    s_anchor.push_back(Measure(RUSAGE_CHILDREN, [&] { return Run(anchor); }));
    s_startup.push_back(Measure(RUSAGE_CHILDREN, [&] { return Run(startup); }));
    s_bare.push_back(Measure(RUSAGE_SELF, bare));
  }
  VipsImage* header = vips_image_new_from_file(photo.c_str(), nullptr);
  std::printf("media_process_bench: %dx%d JPEG, %.2f MiB, %d interleaved rounds, libvips %s\n",
              header->Xsize, header->Ysize, fs::file_size(photo) / 1048576.0, rounds,
              vips_version_string());
  g_object_unref(header);
  Print("ours: ProcessImage (display+thumb+ph)", s_ours);
  Print("anchor: vips thumbnail CLI, 1600", s_anchor);
  Print("  (its process start-up, 16x16 file)", s_startup);
  Print("in-process vips_thumbnail+jpegsave", s_bare);
  std::printf("ratio ours / anchor (medians): wall %.2f  CPU %.2f\n",
              Median(s_ours, false) / Median(s_anchor, false),
              Median(s_ours, true) / Median(s_anchor, true));
  if (keep.empty()) fs::remove_all(dir);
  return 0;
}
