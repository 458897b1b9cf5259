#!/usr/bin/env bash
# Configures (CMake + Ninja) and builds Tchat.
#   scripts/build.sh            → build/       (RelWithDebInfo)
#   scripts/build.sh --asan     → build-asan/  (Debug, AddressSanitizer + UBSan)
# Extra arguments after "--" go to ninja (e.g. -- tchat-migrate to build one target).
# Environment: TCHAT_BUILD_JOBS (default: number of cores), CCACHE_DIR (ccache's
# default ~/.cache/ccache).
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  echo "Usage: $0 [--asan] [-- ninja-args...]"
}

asan=0
ninja_args=()
while (($#)); do
  case "$1" in
    --asan) asan=1 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; ninja_args=("$@"); break ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done

if ((asan)); then
  build_dir="$TCHAT_ROOT/build-asan"
  # End-to-end tests and load generators run against build/ only.
  cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DTCHAT_SANITIZE=ON -DTCHAT_E2E_TESTS=OFF -DTCHAT_BENCHMARKS=OFF)
else
  build_dir="$TCHAT_ROOT/build"
  cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCHAT_SANITIZE=OFF -DTCHAT_E2E_TESTS=ON
    -DTCHAT_BENCHMARKS=ON)
fi

for tool in cmake ninja; do
  command -v "$tool" >/dev/null || tchat::die "$tool not found (run scripts/install-deps.sh)"
done

# Two cores and 24 GiB: one compile per core fits in memory with room to spare
# (heavy translation units peak around 1.5 GiB).
jobs="${TCHAT_BUILD_JOBS:-$(nproc)}"
export CCACHE_BASEDIR="$TCHAT_ROOT"  # cache hits across checkouts in other paths
export CCACHE_NOHASHDIR=1
: "${CCACHE_MAXSIZE:=8G}"
export CCACHE_MAXSIZE

# Configuring again is cheap and keeps the cache in line with these settings.
tchat::log "configuring $build_dir (${cmake_args[*]})"
cmake -S "$TCHAT_ROOT" -B "$build_dir" -G Ninja "${cmake_args[@]}" >/dev/null
tchat::log "building $build_dir with $jobs jobs"
ninja -C "$build_dir" -j "$jobs" "${ninja_args[@]}"
