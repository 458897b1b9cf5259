#!/usr/bin/env bash
# Fails when a helper that core owns is written again outside it: each rule
# below names the core home of one helper family and prints every file:line
# that repeats it. Usage: no_repeats.sh [CHECKOUT] (default: this repository;
# any git checkout of Tchat works, e.g. to see what a branch still repeats).
set -euo pipefail
shopt -s lastpipe  # `... | rule` runs rule in this shell, so it can count failures

ROOT="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
cd "$ROOT"
git rev-parse --git-dir >/dev/null 2>&1 || { echo "FAIL: $ROOT is not a git checkout"; exit 1; }

failures=0
cxx=('*.cpp' '*.hpp' '*.h' '*.cc')

# rule DESCRIPTION: reads git grep hits (file:line:text) on stdin; PASS when
# there are none, otherwise FAIL with every hit.
rule() {
  local hits
  hits="$(cat)"
  if [[ -z "$hits" ]]; then
    echo "PASS: $1"
  else
    echo "FAIL: $1"
    while IFS= read -r hit; do echo "  $hit"; done <<<"$hits"
    failures=$((failures + 1))
  fi
}

# search ERE PATHSPEC...: tracked and untracked (not ignored) files.
search() {
  local pattern="$1"
  shift
  git grep --untracked -n -I -E -e "$pattern" -- "$@" || true
}

# A name that is not part of a longer identifier.
w='(^|[^A-Za-z0-9_])'

search "${w}sodium_init[[:space:]]*\(" "${cxx[@]}" ':!core/src/base/sodium.cpp' |
  rule "libsodium is initialised only by tchat::EnsureSodium (core/src/base/sodium.cpp)"

search "[\"']tchat\.events\." "${cxx[@]}" ':!core/' |
  rule "stream names come from core (tchat/core/events/streams.hpp: events::kAuthStream, ...)"

# (printf/strftime patterns, and PostgreSQL's to_char with YYYY-MM-DD"T"...)
search '%Y-%m-%dT|%04[a-z]*-%02|YYYY-MM-DD\\"T' "${cxx[@]}" ':!core/src/base/time.cpp' \
  ':!core/src/base/time_test.cpp' |
  rule "RFC 3339 times are formatted by core (tchat/core/time.hpp: FormatRfc3339Ms)"

search "std::int64_t (UnixSeconds|UnixMillis|NowMs|NowUnixMs)\(" "${cxx[@]}" \
  ':!core/src/base/time.cpp' ':!core/include/tchat/core/time.hpp' |
  rule "Unix time conversions come from core (tchat/core/time.hpp: UnixMillis, NowUnixMs, ...)"

search "#[[:space:]]*define[[:space:]]+[A-Za-z0-9_]*_READ[[:space:]]*\(" "${cxx[@]}" |
  rule "configuration is read without macros (tchat/core/config.hpp: ConfigLoader)"

search "${w}(NormalizeUuid|RandomUuid)[[:space:]]*\(|std::optional<std::string> CanonicalUuid\(" \
  "${cxx[@]}" ':!core/src/base/uuid.cpp' ':!core/include/tchat/core/uuid.hpp' |
  rule "UUIDs are made and checked by core (tchat/core/uuid.hpp: NewUuidV7, CanonicalUuid)"

search "${w}(class|struct)[[:space:]]+(AsyncEvent|AsyncLimiter|WaitGroup|Alarm)([^A-Za-z0-9_]|$)|Task<void> Sleep\(" \
  "${cxx[@]}" ':!core/include/tchat/core/async.hpp' |
  rule "coroutine primitives come from core (tchat/core/async.hpp)"

search "${w}(Caller|CurrentUser|UserOf)\(const (http::)?Request&" "${cxx[@]}" |
  rule "the caller's user id comes from core (tchat/core/http/types.hpp: http::CallerId)"

search "${w}crypto_hash_sha256[[:space:]]*\(|crypto_auth_hmacsha256_init[[:space:]]*\(" \
  "${cxx[@]}" ':!core/src/base/hashing.cpp' |
  rule "SHA-256 and HMAC-SHA256 digests come from core (tchat/core/hashing.hpp)"

search "${w}(class|struct)[[:space:]]+PgArray([^A-Za-z0-9_]|$)|${w}(ParsePgArray|ToPgArray|ArrayLiteral)[[:space:]]*\(" \
  "${cxx[@]}" |
  rule "PostgreSQL array literals come from core (tchat/core/pg/array.hpp)"

# (Tests keep their own std::string accessors for assertions.)
search "${w}(Str|StringField|StringOr|StringOrEmpty)\(const json::object&" 'core/*.cpp' \
  'core/*.hpp' 'services/*.cpp' 'services/*.hpp' 'clients/*.cpp' 'clients/*.hpp' 'tools/*.cpp' \
  ':!core/src/base/json.cpp' ':!core/include/tchat/core/json.hpp' |
  rule "JSON field readers come from core (tchat/core/json.hpp: StringOrEmpty, StringValue)"

search "${w}(Utf8Next|Utf8Length|CodePoints|TruncateCodePoints)\(std::string_view" "${cxx[@]}" \
  ':!core/src/base/utf8.cpp' ':!core/include/tchat/core/utf8.hpp' |
  rule "UTF-8 decoding and code points come from core (tchat/core/utf8.hpp)"

git ls-files --cached --others --exclude-standard -- services |
  { grep -E '/(uuid|ids|time_util|timestamp|async_event|async_util|pg_array)\.(cpp|hpp)$' || true; } |
  sed 's/$/:1: a service-local copy of a core helper/' |
  rule "no service keeps its own uuid/ids/time_util/timestamp/async/pg_array files"

# (The contract is the project's own: docs/api/openapi.yaml and docs/ARCHITECTURE.md.)
search 'SPEC §' ':!tests/lint/no_repeats.sh' ':!web/package-lock.json' |
  rule "documents and comments cite the project's contract (docs/api/openapi.yaml), not a SPEC outside it"

if ((failures > 0)); then
  echo "FAIL: $failures rule(s) broken; use the core helper named in each rule"
  exit 1
fi
echo "PASS: no helper of core is repeated"
