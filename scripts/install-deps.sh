#!/usr/bin/env bash
# Installs the Debian 12 packages Tchat builds and runs with. Idempotent: asks apt
# only for what is missing (and runs `apt-get update` only then). Also installs
# the web client's npm packages (npm ci, when web/package-lock.json changed) and
# unpacks the libphonenumber headers into third_party/phonenumber/ (see below).
# With --build, only what compiling the services needs (the container images'
# builder stage, deploy/docker/Dockerfile): the toolchain, the libraries and the
# libphonenumber headers; no servers, browser, lint tools or npm packages.
# With --peer, only the packages of the side-by-side benchmark against ejabberd
# (bench/peer_bench.sh): ejabberd with its PostgreSQL driver, and tsung. Opt-in:
# the default install does not carry an XMPP server and an Erlang runtime it
# does not run. The package's own ejabberd service is neither started nor left
# enabled; the benchmark runs ejabberd with its own configuration.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  echo "Usage: $0 [--check] [--build | --peer]"
  echo "  --check   only report missing packages (exit 1 when some are missing)"
  echo "  --build   only what compiling the services needs (no servers, browser, npm)"
  echo "  --peer    only bench/peer_bench.sh's packages (ejabberd, tsung)"
}

check_only=0
build_only=0
peer_only=0
while (($#)); do
  case "$1" in
    --check) check_only=1 ;;
    --build) build_only=1 ;;
    --peer) peer_only=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done

# What compiling the services and their tests needs (CMake finds GTest even when
# only the services are built).
BUILD_PACKAGES=(
  # toolchain
  g++ cmake ninja-build ccache mold pkg-config
  # libraries (Boost 1.81 only: 1.74 conflicts with it)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libpq-dev libhiredis-dev libssl-dev libsodium-dev
  libmagic-dev  # the messaging service sniffs the type of uploads
  libphonenumber8 libprotobuf-dev libabsl-dev libicu-dev
  libgtest-dev libgmock-dev libgoogle-perftools-dev
  # attachments: images (libvips), video and voice probing (FFmpeg's libraries)
  libvips-dev libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
  # the libphonenumber headers' download (below)
  ca-certificates
)
PACKAGES=(
  "${BUILD_PACKAGES[@]}"
  clang-format shellcheck libbenchmark-dev
  # libvips-tools (`vips`) is the media benchmark's anchor, ffmpeg makes the
  # media tests' video and voice fixtures
  libvips-tools ffmpeg
  # servers and tools of the local system, the tests and the benchmarks
  # (postgresql-15 ships pgbench)
  postgresql postgresql-client-15 redis-server redis-tools nginx-light wrk prometheus
  curl jq procps util-linux tzdata openssl ca-certificates iproute2 python3 python3-yaml xxd
  # the web client's browser tests drive Debian's Chromium (no browser download);
  # the fonts make their screenshots show Thai text and emoji
  chromium fonts-tlwg-loma-otf fonts-noto-color-emoji
)
# The web client's toolchain: Node.js 18 or later and npm. A newer Node.js that is
# already installed (NodeSource's, which bundles npm and conflicts with Debian's
# npm package) is used as it is.
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if ((node_major < 18)); then PACKAGES+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(npm); fi
if ((build_only)); then PACKAGES=("${BUILD_PACKAGES[@]}"); fi
# bench/peer_bench.sh only: Debian's ejabberd, the PostgreSQL driver it only
# suggests, and tsung.
PEER_PACKAGES=(ejabberd erlang-p1-pgsql tsung)
if ((peer_only)); then PACKAGES=("${PEER_PACKAGES[@]}"); fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)" != "ii "* ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  if ((check_only)); then
    echo "missing packages: ${missing[*]}"
    exit 1
  fi
  tchat::log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Package scripts must not start the system's own PostgreSQL/Redis/nginx: the
  # project runs private servers on the same default ports.
  created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | tchat::as_root tee /usr/sbin/policy-rc.d >/dev/null
    tchat::as_root chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  cleanup_policy() {
    if ((created_policy)); then tchat::as_root rm -f /usr/sbin/policy-rc.d; fi
  }
  trap cleanup_policy EXIT
  tchat::as_root apt-get update -qq
  tchat::as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if ((peer_only)) && command -v systemctl >/dev/null; then
    # The package enables its service for the next boot; the benchmark does not use it.
    tchat::as_root systemctl disable ejabberd.service >/dev/null 2>&1 || true
  fi
else
  ((check_only)) || tchat::log "all ${#PACKAGES[@]} packages are installed"
fi
((check_only || peer_only)) && exit 0

# The web client's npm packages, exactly as web/package-lock.json pins them.
if ((!build_only)); then
  # shellcheck source=scripts/lib/web.sh
  source "$TCHAT_ROOT/scripts/lib/web.sh"
  tchat::web_deps
fi

# libphonenumber-dev depends on Boost 1.74 (through libboost-thread-dev), which
# conflicts with 1.81, so it cannot be installed: take its headers from the
# package file instead, matching the installed library's version.
PHONE_DIR="$TCHAT_ROOT/third_party/phonenumber"
PHONE_HEADER="$PHONE_DIR/usr/include/phonenumbers/phonenumberutil.h"
if [[ ! -f "$PHONE_HEADER" ]]; then
  debs="$TCHAT_ROOT/third_party/debs"
  mkdir -p "$debs"
  version="$(dpkg-query -W -f='${Version}' libphonenumber8)"
  if ! compgen -G "$debs/libphonenumber-dev_*.deb" >/dev/null; then
    tchat::log "downloading libphonenumber-dev=$version (headers only)"
    download() { (cd "$debs" && apt-get download -qq "libphonenumber-dev=$version"); }
    if ! download 2>/dev/null; then
      tchat::as_root apt-get update -qq
      download
    fi
  fi
  deb="$(compgen -G "$debs/libphonenumber-dev_*.deb" | head -n1)"
  tchat::log "unpacking $(basename "$deb") into third_party/phonenumber/"
  rm -rf "$PHONE_DIR"
  dpkg -x "$deb" "$PHONE_DIR"
  [[ -f "$PHONE_HEADER" ]] || tchat::die "libphonenumber headers missing from $deb"
fi
