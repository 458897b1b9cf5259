#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <tchat/core/result.hpp>

namespace tchat::migrate {

// The version the database is at before its first migration (golang-migrate's
// NilVersion). Real versions are >= 0.
inline constexpr std::int64_t kNilVersion = -1;

enum class Direction { kUp, kDown };

// One parsed file name of golang-migrate's format: "<version>_<identifier>.<up|down>.<ext>",
// e.g. "000001_init.up.sql" → {1, "init", kUp, "sql"}.
struct FileName {
  std::int64_t version = 0;
  std::string identifier;
  Direction direction = Direction::kUp;
  std::string extension;
};

// Parses a bare file name (no directory). Returns nullopt for names that are not
// migrations (README.md, editor backups without a version, ...), which callers skip,
// exactly like golang-migrate does (its pattern is `^([0-9]+)_(.*)\.(down|up)\.(.*)$`, so
// the identifier extends to the last ".up." / ".down."). The version must fit in a
// signed 64-bit integer; identifier and extension may be empty.
std::optional<FileName> ParseFileName(std::string_view name);

// The up and down files of one version. Either may be missing: a version without a
// file for the direction being applied only moves the recorded version.
struct Migration {
  std::int64_t version = 0;
  std::string identifier;
  std::optional<std::filesystem::path> up;
  std::optional<std::filesystem::path> down;
};

// The ordered set of migrations found in one directory. Immutable after Load; safe
// to share between threads for reading.
class Source {
 public:
  // Reads `dir` (not recursively). Fails when the directory cannot be read or when
  // two files claim the same version and direction.
  static Result<Source> Load(const std::filesystem::path& dir);

  // Adds one file; the same duplicate rule as Load. For building sources in tests.
  Status Add(const FileName& name, std::filesystem::path path);

  bool Empty() const { return migrations_.empty(); }
  std::size_t Size() const { return migrations_.size(); }
  // The lowest version, or nullopt when empty.
  std::optional<std::int64_t> First() const;
  // The next higher / lower version present in the source, or nullopt.
  std::optional<std::int64_t> Next(std::int64_t version) const;
  std::optional<std::int64_t> Prev(std::int64_t version) const;
  // The migration with exactly this version, or nullptr.
  const Migration* Find(std::int64_t version) const;

 private:
  std::map<std::int64_t, Migration> migrations_;
};

// Reads a whole migration file into memory.
Result<std::string> ReadFile(const std::filesystem::path& path);

}  // namespace tchat::migrate
