#include "migration_files.hpp"

#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

namespace tchat::migrate {

std::optional<FileName> ParseFileName(std::string_view name) {
  std::size_t digits = 0;
  while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9') ++digits;
  if (digits == 0 || digits >= name.size() || name[digits] != '_') return std::nullopt;

  FileName parsed;
  const auto [ptr, ec] = std::from_chars(name.data(), name.data() + digits, parsed.version);
  if (ec != std::errc() || ptr != name.data() + digits) return std::nullopt;  // overflow

  // The identifier is greedy: take the last ".up." / ".down." after the underscore.
  const std::string_view rest = name.substr(digits + 1);
  std::optional<std::size_t> marker;
  for (std::size_t pos = rest.size(); pos-- > 0;) {
    if (rest.substr(pos).starts_with(".up.")) {
      marker = pos;
      parsed.direction = Direction::kUp;
      parsed.extension = std::string(rest.substr(pos + 4));
      break;
    }
    if (rest.substr(pos).starts_with(".down.")) {
      marker = pos;
      parsed.direction = Direction::kDown;
      parsed.extension = std::string(rest.substr(pos + 6));
      break;
    }
  }
  if (!marker) return std::nullopt;
  parsed.identifier = std::string(rest.substr(0, *marker));
  return parsed;
}

Status Source::Add(const FileName& name, std::filesystem::path path) {
  auto [it, inserted] = migrations_.try_emplace(name.version);
  Migration& m = it->second;
  if (inserted) {
    m.version = name.version;
    m.identifier = name.identifier;
  }
  std::optional<std::filesystem::path>& slot = name.direction == Direction::kUp ? m.up : m.down;
  if (slot) {
    return Error::InvalidArgument("duplicate migration file: " + path.filename().string() +
                                  " and " + slot->filename().string());
  }
  slot = std::move(path);
  return Ok();
}

Result<Source> Source::Load(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return Error::InvalidArgument("cannot read migrations directory " + dir.string() + ": " +
                                  ec.message());
  }
  Source source;
  for (const std::filesystem::directory_entry& entry : it) {
    if (!entry.is_regular_file(ec)) continue;
    const std::optional<FileName> name = ParseFileName(entry.path().filename().string());
    if (!name) continue;
    if (Status added = source.Add(*name, entry.path()); !added) return std::move(added).error();
  }
  return source;
}

std::optional<std::int64_t> Source::First() const {
  if (migrations_.empty()) return std::nullopt;
  return migrations_.begin()->first;
}

std::optional<std::int64_t> Source::Next(std::int64_t version) const {
  const auto it = migrations_.upper_bound(version);
  if (it == migrations_.end()) return std::nullopt;
  return it->first;
}

std::optional<std::int64_t> Source::Prev(std::int64_t version) const {
  auto it = migrations_.lower_bound(version);
  if (it == migrations_.begin()) return std::nullopt;
  --it;
  return it->first;
}

const Migration* Source::Find(std::int64_t version) const {
  const auto it = migrations_.find(version);
  return it == migrations_.end() ? nullptr : &it->second;
}

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::NotFound("cannot open " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return Error::Internal("cannot read " + path.string());
  return std::move(out).str();
}

}  // namespace tchat::migrate
