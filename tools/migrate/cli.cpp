#include "cli.hpp"

#include <charconv>
#include <istream>
#include <optional>
#include <ostream>
#include <string>

#include "migration_files.hpp"
#include "migrator.hpp"
#include "postgres_driver.hpp"

namespace tchat::migrate {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

std::optional<std::int64_t> ParseInteger(std::string_view text) {
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<bool> ParseFlagBool(std::string_view text) {
  if (text == "1" || text == "t" || text == "T" || text == "true" || text == "TRUE" ||
      text == "True") {
    return true;
  }
  if (text == "0" || text == "f" || text == "F" || text == "false" || text == "FALSE" ||
      text == "False") {
    return false;
  }
  return std::nullopt;
}

}  // namespace

std::string UsageText() {
  return R"usage(Usage: tchat-migrate OPTIONS COMMAND [arg...]

Applies golang-migrate style migrations (NNNNNN_name.up.sql / .down.sql) to PostgreSQL,
recording the version in table schema_migrations(version, dirty).

Options:
  -path DIR           Directory of the migration files (or -source file://DIR)
  -database URL       libpq URL, e.g. postgres://user@127.0.0.1:5432/db?sslmode=disable
                      (golang-migrate "x-" parameters are stripped; x-migrations-table honoured)
  -lock-timeout N     Seconds to wait for the migration lock (default 15)
  -verbose            Print more
  -version            Print the tool's version
  -help               Print this text

Commands:
  up [N]       Apply all or N up migrations
  down [N]     Apply N down migrations; "down -all" reverts everything
  goto V       Migrate up or down to version V
  force V      Record version V (-1: none) as clean without running anything
  version      Print the current version ("V" or "V (dirty)")
)usage";
}

Result<Options> ParseOptions(std::span<const std::string> args) {
  Options options;
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') break;  // the command
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    std::optional<std::string> inline_value;
    if (const std::size_t eq = arg.find('='); eq != std::string_view::npos) {
      inline_value = std::string(arg.substr(eq + 1));
      arg = arg.substr(0, eq);
    }
    const std::string name(arg);
    auto value = [&]() -> Result<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) return Error::InvalidArgument("flag needs an argument: -" + name);
      return args[++i];
    };
    auto boolean = [&]() -> Result<bool> {
      if (!inline_value) return true;
      if (std::optional<bool> b = ParseFlagBool(*inline_value)) return *b;
      return Error::InvalidArgument("invalid boolean value \"" + *inline_value + "\" for -" + name);
    };

    if (name == "path" || name == "source" || name == "database") {
      Result<std::string> v = value();
      if (!v) return std::move(v).error();
      if (name == "database") {
        options.database = *v;
      } else if (name == "source") {
        if (!v->starts_with("file://")) {
          return Error::InvalidArgument("only file:// sources are supported, got " + *v);
        }
        options.path = v->substr(7);
      } else {
        options.path = *v;
      }
    } else if (name == "lock-timeout" || name == "prefetch") {
      Result<std::string> v = value();
      if (!v) return std::move(v).error();
      const std::optional<std::int64_t> n = ParseInteger(*v);
      if (!n || *n < 0) {
        return Error::InvalidArgument("invalid value \"" + *v + "\" for -" + name);
      }
      if (name == "lock-timeout") options.lock_timeout = std::chrono::seconds(*n);
    } else if (name == "verbose" || name == "help" || name == "h" || name == "version") {
      Result<bool> b = boolean();
      if (!b) return std::move(b).error();
      if (name == "verbose") options.verbose = *b;
      if (name == "help" || name == "h") options.help = *b;
      if (name == "version") options.print_version = *b;
    } else {
      return Error::InvalidArgument("flag provided but not defined: -" + name);
    }
  }
  options.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return options;
}

DriverFactory PostgresDriverFactory() {
  return [](const std::string& url,
            std::chrono::milliseconds lock_timeout) -> Result<std::unique_ptr<Driver>> {
    Result<std::unique_ptr<PostgresDriver>> driver = PostgresDriver::Open(url, lock_timeout);
    if (!driver) return std::move(driver).error();
    return std::unique_ptr<Driver>(std::move(*driver));
  };
}

int RunCli(std::span<const std::string> args, std::ostream& out, std::ostream& err,
           std::istream& in, const DriverFactory& open_driver) {
  Result<Options> parsed = ParseOptions(args);
  if (!parsed) {
    err << "error: " << parsed.error().message << "\n" << UsageText();
    return kExitUsage;
  }
  const Options& options = *parsed;
  if (options.help) {
    out << UsageText();
    return kExitOk;
  }
  if (options.print_version) {
    out << "tchat-migrate " << TCHAT_MIGRATE_VERSION << "\n";
    return kExitOk;
  }
  if (options.command.empty()) {
    err << "error: no command given\n" << UsageText();
    return kExitUsage;
  }
  const std::string& command = options.command[0];
  const std::span<const std::string> command_args =
      std::span<const std::string>(options.command).subspan(1);
  auto usage_error = [&](const std::string& message) {
    err << "error: " << message << "\n";
    return kExitUsage;
  };

  // Validate the command line completely before touching the database.
  std::optional<std::int64_t> number;
  bool down_all = false;
  if (command == "up" || command == "down") {
    for (const std::string& a : command_args) {
      if (command == "down" && (a == "-all" || a == "--all")) {
        down_all = true;
      } else if (!number) {
        number = ParseInteger(a);
        if (!number || *number < 1 || *number > 1'000'000) {
          return usage_error("can't read limit argument N: \"" + a + "\"");
        }
      } else {
        return usage_error("too many arguments for " + command);
      }
    }
    if (down_all && number) return usage_error("-all cannot be used with N");
  } else if (command == "goto" || command == "force") {
    if (command_args.size() != 1) return usage_error("please specify version argument V");
    number = ParseInteger(command_args[0]);
    const std::int64_t min = command == "force" ? kNilVersion : 0;
    if (!number || *number < min) {
      return usage_error("can't read version argument V: \"" + command_args[0] + "\"");
    }
  } else if (command == "version") {
    if (!command_args.empty()) return usage_error("version takes no arguments");
  } else if (command == "create" || command == "drop") {
    return usage_error("command \"" + command + "\" is not supported by tchat-migrate");
  } else {
    err << "error: unknown command \"" << command << "\"\n" << UsageText();
    return kExitUsage;
  }
  if (options.database.empty()) return usage_error("-database is required");
  const bool needs_source = command != "version" && command != "force";
  if (needs_source && options.path.empty()) return usage_error("-path is required");

  if (command == "down" && !number && !down_all) {
    err << "Are you sure you want to apply all down migrations? [y/N]\n";
    std::string answer;
    std::getline(in, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") {
      err << "Not applying all down migrations\n";
      return kExitFailure;
    }
    err << "Applying all down migrations\n";
  }

  Source source;
  if (needs_source) {
    Result<Source> loaded = Source::Load(options.path);
    if (!loaded) {
      err << "error: " << loaded.error().message << "\n";
      return kExitFailure;
    }
    source = std::move(*loaded);
    if (options.verbose)
      err << "Loaded " << source.Size() << " migrations from " << options.path << "\n";
  }

  Result<std::unique_ptr<Driver>> driver = open_driver(options.database, options.lock_timeout);
  if (!driver) {
    err << "error: " << driver.error().message << "\n";
    return kExitFailure;
  }
  Migrator migrator(source, **driver, [&err](std::string_view line) { err << line << "\n"; });

  auto finish = [&](const Result<int>& applied) {
    if (!applied) {
      err << "error: " << applied.error().message << "\n";
      return kExitFailure;
    }
    if (*applied == 0) err << "no change\n";
    return kExitOk;
  };

  if (command == "up") {
    return finish(
        migrator.Up(number ? std::optional<int>(static_cast<int>(*number)) : std::nullopt));
  }
  if (command == "down") {
    return finish(
        migrator.Down(number ? std::optional<int>(static_cast<int>(*number)) : std::nullopt));
  }
  if (command == "goto") return finish(migrator.Goto(*number));
  if (command == "force") {
    if (Status s = migrator.Force(*number); !s) {
      err << "error: " << s.error().message << "\n";
      return kExitFailure;
    }
    return kExitOk;
  }
  // version
  Result<VersionState> state = migrator.Version();
  if (!state) {
    err << "error: " << state.error().message << "\n";
    return kExitFailure;
  }
  if (state->version == kNilVersion && !state->dirty) {
    err << "error: no migration\n";
    return kExitFailure;
  }
  out << state->version << (state->dirty ? " (dirty)" : "") << "\n";
  return kExitOk;
}

}  // namespace tchat::migrate
