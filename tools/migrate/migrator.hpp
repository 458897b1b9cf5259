#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "driver.hpp"
#include "migration_files.hpp"

namespace tchat::migrate {

// Applies the migrations of a Source to a Driver with golang-migrate's semantics:
// every command takes the driver's lock, refuses to run on a dirty database, and
// each migration marks the target version dirty, runs its file, then records the
// target version clean. A failure leaves the database dirty at that version until
// an operator fixes it and runs Force.
//
// Borrows the source and the driver (both must outlive it). Single-threaded.
class Migrator {
 public:
  // `log` receives one line per applied migration, e.g. "1/u init (3.2ms)".
  using LogFn = std::function<void(std::string_view line)>;

  Migrator(const Source& source, Driver& driver, LogFn log);

  // Applies up to `steps` migrations upwards (all when nullopt). Returns how many
  // were applied; 0 means "no change". When fewer than `steps` exist, applies them
  // and then fails with "limit N short by M" like golang-migrate.
  Result<int> Up(std::optional<int> steps);
  // Reverts up to `steps` migrations (all when nullopt), same conventions.
  Result<int> Down(std::optional<int> steps);
  // Moves up or down until the database is at `version`, which must exist in the
  // source.
  Result<int> Goto(std::int64_t version);
  // Records `version` (>= kNilVersion) as clean without running anything; the way
  // out of a dirty state. Allowed on a dirty database.
  Status Force(std::int64_t version);
  // The recorded version and dirty flag.
  Result<VersionState> Version();

 private:
  // Steps from the current version in direction `wanted`, or towards `target` when
  // set (then `wanted` is ignored); `steps` < 0 means unlimited.
  Result<int> Walk(std::optional<Direction> wanted, int steps, std::optional<std::int64_t> target);
  Status ApplyOne(Direction direction, std::int64_t from, std::int64_t to);

  const Source& source_;
  Driver& driver_;
  LogFn log_;
};

// The message golang-migrate prints for a dirty database.
std::string DirtyMessage(std::int64_t version);

}  // namespace tchat::migrate
