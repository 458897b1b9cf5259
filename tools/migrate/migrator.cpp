#include "migrator.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

namespace tchat::migrate {
namespace {

// Releases the driver's lock when a command ends, whatever path it takes.
class LockGuard {
 public:
  explicit LockGuard(Driver& driver) : driver_(driver) {}
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;
  ~LockGuard() {
    if (locked_) (void)driver_.Unlock();
  }

  Status Acquire() {
    Status s = driver_.Lock();
    locked_ = s.ok();
    return s;
  }

 private:
  Driver& driver_;
  bool locked_ = false;
};

std::string FormatDuration(std::chrono::steady_clock::duration d) {
  const double ms = std::chrono::duration<double, std::milli>(d).count();
  char buf[64];
  if (ms >= 1000.0) {
    std::snprintf(buf, sizeof buf, "%.3fs", ms / 1000.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.3fms", ms);
  }
  return buf;
}

}  // namespace

std::string DirtyMessage(std::int64_t version) {
  return "Dirty database version " + std::to_string(version) + ". Fix and force version.";
}

Migrator::Migrator(const Source& source, Driver& driver, LogFn log)
    : source_(source), driver_(driver), log_(std::move(log)) {}

Result<int> Migrator::Up(std::optional<int> steps) {
  if (steps && *steps < 0) return Error::InvalidArgument("steps must be >= 0");
  return Walk(Direction::kUp, steps.value_or(-1), std::nullopt);
}

Result<int> Migrator::Down(std::optional<int> steps) {
  if (steps && *steps < 0) return Error::InvalidArgument("steps must be >= 0");
  return Walk(Direction::kDown, steps.value_or(-1), std::nullopt);
}

Result<int> Migrator::Goto(std::int64_t version) {
  if (source_.Find(version) == nullptr) {
    return Error::NotFound("no migration found for version " + std::to_string(version));
  }
  return Walk(std::nullopt, -1, version);
}

Status Migrator::Force(std::int64_t version) {
  if (version < kNilVersion) return Error::InvalidArgument("version must be >= -1");
  LockGuard lock(driver_);
  if (Status s = lock.Acquire(); !s) return s;
  return driver_.SetVersion(version, false);
}

Result<VersionState> Migrator::Version() {
  LockGuard lock(driver_);
  if (Status s = lock.Acquire(); !s) return std::move(s).error();
  return driver_.Version();
}

Result<int> Migrator::Walk(std::optional<Direction> wanted, int steps,
                           std::optional<std::int64_t> target) {
  LockGuard lock(driver_);
  if (Status s = lock.Acquire(); !s) return std::move(s).error();
  Result<VersionState> state = driver_.Version();
  if (!state) return std::move(state).error();
  if (state->dirty) return Error::Conflict(DirtyMessage(state->version));

  std::int64_t current = state->version;
  if (current != kNilVersion && source_.Find(current) == nullptr) {
    return Error::NotFound("no migration found for version " + std::to_string(current));
  }
  // With a target, the direction follows from where the database is now.
  const Direction direction =
      target ? (current < *target ? Direction::kUp : Direction::kDown) : *wanted;

  int applied = 0;
  while (steps < 0 || applied < steps) {
    if (target && current == *target) break;
    std::optional<std::int64_t> next;
    if (direction == Direction::kUp) {
      next = current == kNilVersion ? source_.First() : source_.Next(current);
      if (!next) break;
    } else {
      if (current == kNilVersion) break;
      next = source_.Prev(current).value_or(kNilVersion);
    }
    if (Status s = ApplyOne(direction, current, *next); !s) return std::move(s).error();
    current = *next;
    ++applied;
  }
  if (steps > 0 && applied < steps) {
    return Error::NotFound("limit " + std::to_string(steps) + " short by " +
                           std::to_string(steps - applied));
  }
  return applied;
}

Status Migrator::ApplyOne(Direction direction, std::int64_t from, std::int64_t to) {
  // Up applies the file of `to`; down reverts the file of `from`.
  const Migration* m = source_.Find(direction == Direction::kUp ? to : from);
  const std::optional<std::filesystem::path>& file = direction == Direction::kUp ? m->up : m->down;
  const auto start = std::chrono::steady_clock::now();
  if (file) {
    Result<std::string> body = ReadFile(*file);
    if (!body) return std::move(body).error();
    if (Status s = driver_.SetVersion(to, true); !s) return s;
    if (Status s = driver_.Run(*body); !s) {
      Error e = std::move(s).error();
      e.message = "migration " + file->filename().string() + " failed: " + e.message;
      return e;
    }
  }
  if (Status s = driver_.SetVersion(to, false); !s) return s;
  if (log_) {
    log_(std::to_string(m->version) + (direction == Direction::kUp ? "/u " : "/d ") +
         m->identifier + " (" + FormatDuration(std::chrono::steady_clock::now() - start) + ")");
  }
  return Ok();
}

}  // namespace tchat::migrate
