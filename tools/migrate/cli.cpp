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

// What a command's arguments ask for: N for up/down, V for goto/force.
struct CommandArgs {
  std::optional<std::int64_t> number;
  bool down_all = false;  // down -all
};

bool IsCommand(const std::string& command) {
  return command == "up" || command == "down" || command == "goto" || command == "force" ||
         command == "version" || command == "create" || command == "drop";
}

// Checks a known command's arguments (the whole command line is validated before
// the database is touched). Errors are usage errors.
Result<CommandArgs> ParseCommandArgs(const std::string& command,
                                     std::span<const std::string> args) {
  CommandArgs parsed;
  if (command == "up" || command == "down") {
    for (const std::string& a : args) {
      if (command == "down" && (a == "-all" || a == "--all")) {
        parsed.down_all = true;
      } else if (!parsed.number) {
        parsed.number = ParseInteger(a);
        if (!parsed.number || *parsed.number < 1 || *parsed.number > 1'000'000) {
          return Error::InvalidArgument("can't read limit argument N: \"" + a + "\"");
        }
      } else {
        return Error::InvalidArgument("too many arguments for " + command);
      }
    }
    if (parsed.down_all && parsed.number) {
      return Error::InvalidArgument("-all cannot be used with N");
    }
  } else if (command == "goto" || command == "force") {
    if (args.size() != 1) return Error::InvalidArgument("please specify version argument V");
    parsed.number = ParseInteger(args[0]);
    const std::int64_t min = command == "force" ? kNilVersion : 0;
    if (!parsed.number || *parsed.number < min) {
      return Error::InvalidArgument("can't read version argument V: \"" + args[0] + "\"");
    }
  } else if (command == "version") {
    if (!args.empty()) return Error::InvalidArgument("version takes no arguments");
  } else {  // create, drop
    return Error::InvalidArgument("command \"" + command + "\" is not supported by tchat-migrate");
  }
  return parsed;
}

// "down" without N or -all reverts everything: only after a "y" on `in`.
bool ConfirmDownAll(std::ostream& err, std::istream& in) {
  err << "Are you sure you want to apply all down migrations? [y/N]\n";
  std::string answer;
  std::getline(in, answer);
  if (answer != "y" && answer != "Y" && answer != "yes") {
    err << "Not applying all down migrations\n";
    return false;
  }
  err << "Applying all down migrations\n";
  return true;
}

int Fail(std::ostream& err, const Error& e) {
  err << "error: " << e.message << "\n";
  return kExitFailure;
}

// Runs a validated command on the database and reports the outcome.
int Execute(Migrator& migrator, const std::string& command, const CommandArgs& args,
            std::ostream& out, std::ostream& err) {
  auto finish = [&](const Result<int>& applied) {
    if (!applied) return Fail(err, applied.error());
    if (*applied == 0) err << "no change\n";
    return kExitOk;
  };
  const std::optional<int> n =
      args.number ? std::optional<int>(static_cast<int>(*args.number)) : std::nullopt;
  if (command == "up") return finish(migrator.Up(n));
  if (command == "down") return finish(migrator.Down(n));
  if (command == "goto") return finish(migrator.Goto(*args.number));
  if (command == "force") {
    if (Status s = migrator.Force(*args.number); !s) return Fail(err, s.error());
    return kExitOk;
  }
  // version
  Result<VersionState> state = migrator.Version();
  if (!state) return Fail(err, state.error());
  if (state->version == kNilVersion && !state->dirty) {
    err << "error: no migration\n";
    return kExitFailure;
  }
  out << state->version << (state->dirty ? " (dirty)" : "") << "\n";
  return kExitOk;
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
  auto usage_error = [&](const std::string& message) {
    err << "error: " << message << "\n";
    return kExitUsage;
  };

  // Validate the command line completely before touching the database.
  if (!IsCommand(command)) {
    err << "error: unknown command \"" << command << "\"\n" << UsageText();
    return kExitUsage;
  }
  Result<CommandArgs> command_args =
      ParseCommandArgs(command, std::span<const std::string>(options.command).subspan(1));
  if (!command_args) return usage_error(command_args.error().message);
  if (options.database.empty()) return usage_error("-database is required");
  const bool needs_source = command != "version" && command != "force";
  if (needs_source && options.path.empty()) return usage_error("-path is required");

  if (command == "down" && !command_args->number && !command_args->down_all &&
      !ConfirmDownAll(err, in)) {
    return kExitFailure;
  }

  Source source;
  if (needs_source) {
    Result<Source> loaded = Source::Load(options.path);
    if (!loaded) return Fail(err, loaded.error());
    source = std::move(*loaded);
    if (options.verbose)
      err << "Loaded " << source.Size() << " migrations from " << options.path << "\n";
  }

  Result<std::unique_ptr<Driver>> driver = open_driver(options.database, options.lock_timeout);
  if (!driver) return Fail(err, driver.error());
  Migrator migrator(source, **driver, [&err](std::string_view line) { err << line << "\n"; });
  return Execute(migrator, command, *command_args, out, err);
}

}  // namespace tchat::migrate
