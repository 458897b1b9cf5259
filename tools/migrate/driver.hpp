#pragma once

#include <cstdint>
#include <string_view>

#include <tchat/core/result.hpp>

namespace tchat::migrate {

// What the database says about its schema version.
struct VersionState {
  std::int64_t version = -1;  // kNilVersion when no migration was ever applied
  bool dirty = false;
};

// The database side of a migration run: a lock that serialises concurrent
// migrators, the recorded version and a way to run one file. The Migrator drives
// it from one thread; implementations need not be thread-safe.
class Driver {
 public:
  virtual ~Driver() = default;

  // Takes / releases the migration lock. Lock fails after the driver's timeout.
  virtual Status Lock() = 0;
  virtual Status Unlock() = 0;
  virtual Result<VersionState> Version() = 0;
  // Replaces the recorded version (kNilVersion and clean: nothing recorded).
  virtual Status SetVersion(std::int64_t version, bool dirty) = 0;
  // Runs one migration file's whole text.
  virtual Status Run(std::string_view sql) = 0;
};

}  // namespace tchat::migrate
