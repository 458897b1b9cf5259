#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <tchat/core/metrics.hpp>

namespace tchat::metrics {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::Observe(double v) {
  // Few buckets: a linear scan beats binary search on branch prediction.
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

namespace {

void AppendNumber(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  // Shortest representation that round-trips, as Prometheus clients print.
  char buf[32];
  const double mag = std::fabs(v);
  const bool fixed = mag == 0 || (mag >= 1e-6 && mag < 1e15);
  auto [end, ec] = fixed ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                         : std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) {
    out += "NaN";
    return;
  }
  out.append(buf, end);
}

// Writes {a="x",b="y"[,extra]} (nothing when there are no labels).
void AppendLabels(std::string& out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra = {}) {
  if (names.empty() && extra.empty()) return;
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    out += EscapeLabelValue(values[i]);
    out += '"';
  }
  if (!extra.empty()) {
    if (!first) out += ',';
    out += extra;
  }
  out += '}';
}

void AppendHeader(std::string& out, const std::string& name, const std::string& help,
                  std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

Registry::Entry& Registry::Find(const std::string& name, Type type,
                                const std::vector<std::string>& labels) {
  auto it = entries_.find(name);
  if (it != entries_.end()) {
    const std::vector<std::string>* existing = nullptr;
    if (it->second.counter) existing = &it->second.counter->label_names();
    if (it->second.gauge) existing = &it->second.gauge->label_names();
    if (it->second.histogram) existing = &it->second.histogram->label_names();
    if (it->second.type != type || existing == nullptr || *existing != labels) {
      std::fprintf(stderr, "metric %s registered twice with different type or labels\n",
                   name.c_str());
      std::abort();
    }
    return it->second;
  }
  Entry& e = entries_[name];
  e.type = type;
  return e;
}

CounterFamily& Registry::AddCounter(std::string name, std::string help,
                                    std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Entry& e = Find(name, Type::kCounter, labels);
  if (!e.counter) {
    e.counter = std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(labels),
                                                [] { return std::make_unique<Counter>(); });
  }
  return *e.counter;
}

GaugeFamily& Registry::AddGauge(std::string name, std::string help,
                                std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Entry& e = Find(name, Type::kGauge, labels);
  if (!e.gauge) {
    e.gauge = std::make_unique<GaugeFamily>(std::move(name), std::move(help), std::move(labels),
                                            [] { return std::make_unique<Gauge>(); });
  }
  return *e.gauge;
}

HistogramFamily& Registry::AddHistogram(std::string name, std::string help,
                                        std::vector<std::string> labels,
                                        std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  Entry& e = Find(name, Type::kHistogram, labels);
  if (!e.histogram) {
    e.histogram = std::make_unique<HistogramFamily>(
        std::move(name), std::move(help), std::move(labels),
        [bounds = std::move(bounds)] { return std::make_unique<Histogram>(bounds); });
  }
  return *e.histogram;
}

void Registry::AddCollector(std::function<void()> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::Expose() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (auto& c : collectors) c();

  std::string out;
  out.reserve(16 * 1024);
  std::lock_guard lock(mu_);
  for (const auto& [name, e] : entries_) {
    switch (e.type) {
      case Type::kCounter:
        AppendHeader(out, name, e.counter->help(), "counter");
        e.counter->ForEach([&](const std::vector<std::string>& values, const Counter& c) {
          out += name;
          AppendLabels(out, e.counter->label_names(), values);
          out += ' ';
          AppendNumber(out, c.Value());
          out += '\n';
        });
        break;
      case Type::kGauge:
        AppendHeader(out, name, e.gauge->help(), "gauge");
        e.gauge->ForEach([&](const std::vector<std::string>& values, const Gauge& g) {
          out += name;
          AppendLabels(out, e.gauge->label_names(), values);
          out += ' ';
          AppendNumber(out, g.Value());
          out += '\n';
        });
        break;
      case Type::kHistogram:
        AppendHeader(out, name, e.histogram->help(), "histogram");
        e.histogram->ForEach([&](const std::vector<std::string>& values, const Histogram& h) {
          const auto& names = e.histogram->label_names();
          std::uint64_t cumulative = 0;
          std::string le;
          for (std::size_t i = 0; i <= h.bounds().size(); ++i) {
            cumulative += h.BucketCount(i);
            le = "le=\"";
            if (i == h.bounds().size()) {
              le += "+Inf";
            } else {
              AppendNumber(le, h.bounds()[i]);
            }
            le += '"';
            out += name;
            out += "_bucket";
            AppendLabels(out, names, values, le);
            out += ' ';
            AppendNumber(out, static_cast<double>(cumulative));
            out += '\n';
          }
          out += name;
          out += "_sum";
          AppendLabels(out, names, values);
          out += ' ';
          AppendNumber(out, h.Sum());
          out += '\n';
          out += name;
          out += "_count";
          AppendLabels(out, names, values);
          out += ' ';
          AppendNumber(out, static_cast<double>(cumulative));
          out += '\n';
        });
        break;
    }
  }
  return out;
}

Registry& Registry::Default() {
  static Registry* r = new Registry();  // never destroyed: metrics outlive every thread
  return *r;
}

}  // namespace tchat::metrics
