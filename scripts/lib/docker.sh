# shellcheck shell=bash
# Debian's Docker engine for the container images (deploy/docker/Dockerfile):
# installs it, starts dockerd when none runs (and stops only the one it started),
# and makes the base image debian:12 with debootstrap when Docker Hub cannot be
# reached. Requires common.sh. Every command goes to Debian's client,
# /usr/bin/docker (another docker on PATH may speak a newer API than the engine).

TCHAT_DOCKER="${TCHAT_DOCKER:-/usr/bin/docker}"
TCHAT_DOCKER_COMPOSE="${TCHAT_DOCKER_COMPOSE:-/usr/bin/docker-compose}"
TCHAT_BASE_IMAGE="${TCHAT_BASE_IMAGE:-debian:12}"
# The pid of the dockerd this shell started (empty: none).
TCHAT_DOCKERD_PID=""

tchat::docker() { tchat::as_root "$TCHAT_DOCKER" "$@"; }

# Installs Debian's docker.io (engine and client), debootstrap (the base image)
# and docker-compose (1.29) when missing.
tchat::docker_install() {
  local pkg missing=()
  for pkg in docker.io debootstrap docker-compose; do
    if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)" != "ii "* ]]; then
      missing+=("$pkg")
    fi
  done
  ((${#missing[@]} == 0)) && return 0
  tchat::log "installing ${missing[*]}"
  # Their package scripts must not start a dockerd: tchat::dockerd_start does,
  # with the options this machine needs.
  local created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | tchat::as_root tee /usr/sbin/policy-rc.d >/dev/null
    tchat::as_root chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  local rc=0
  tchat::as_root apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive tchat::as_root apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" || rc=1
  if ((created_policy)); then tchat::as_root rm -f /usr/sbin/policy-rc.d; fi
  return "$rc"
}

tchat::dockerd_running() { tchat::docker info >/dev/null 2>&1; }

# Starts dockerd (as root) when no engine answers: no bridge and no iptables
# rules, so containers use the host's network (docker run --network host) and
# every test's traffic stays on 127.0.0.1. Remembers the pid for tchat::dockerd_stop.
tchat::dockerd_start() {
  if tchat::dockerd_running; then return 0; fi
  command -v dockerd >/dev/null || tchat::die "dockerd not found (tchat::docker_install)"
  local log="${TCHAT_DOCKERD_LOG:-/tmp/tchat-dockerd.log}"
  tchat::log "starting dockerd (log $log)"
  # Not through tchat::as_root: a backgrounded function is a subshell, and its pid
  # would not be dockerd's (sudo passes the signal on).
  if [[ "$(id -u)" == 0 ]]; then
    dockerd --bridge=none --iptables=false >>"$log" 2>&1 </dev/null 9>&- &
  else
    # shellcheck disable=SC2024 # the log is the caller's file, written by this shell
    sudo dockerd --bridge=none --iptables=false >>"$log" 2>&1 </dev/null 9>&- &
  fi
  TCHAT_DOCKERD_PID=$!
  if ! tchat::wait_until 60 tchat::dockerd_running; then
    tail -n 20 "$log" >&2
    tchat::die "dockerd did not start"
  fi
}

# Stops the dockerd that tchat::dockerd_start started, if any (SIGTERM; it stops
# its containers' shims and containerd itself).
tchat::dockerd_stop() {
  [[ -n "$TCHAT_DOCKERD_PID" ]] || return 0
  tchat::log "stopping the dockerd this script started (pid $TCHAT_DOCKERD_PID)"
  tchat::as_root kill -TERM "$TCHAT_DOCKERD_PID" 2>/dev/null || true
  tchat::wait_until 60 tchat::_pid_gone "$TCHAT_DOCKERD_PID" || tchat::warn "dockerd did not stop within 60 s"
  TCHAT_DOCKERD_PID=""
}

# Makes the base image $TCHAT_BASE_IMAGE (debian:12) unless it exists: pulled from
# Docker Hub when that answers, else built here from Debian's archive with
# debootstrap (minbase, bookworm + updates + security, apt caches, documentation
# and translations left out, as in Debian's official slim image).
tchat::docker_base_image() {
  if tchat::docker image inspect "$TCHAT_BASE_IMAGE" >/dev/null 2>&1; then return 0; fi
  if timeout 30 "$TCHAT_DOCKER" pull "$TCHAT_BASE_IMAGE" >/dev/null 2>&1; then
    tchat::log "pulled $TCHAT_BASE_IMAGE"
    return 0
  fi
  local mirror="${TCHAT_DEBIAN_MIRROR:-http://deb.debian.org/debian}" dir
  command -v debootstrap >/dev/null || tchat::die "debootstrap not found (tchat::docker_install)"
  dir="$(mktemp -d /tmp/tchat-rootfs.XXXXXX)"
  tchat::log "Docker Hub unreachable: making $TCHAT_BASE_IMAGE with debootstrap from $mirror"
  if ! tchat::as_root debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$dir.log" 2>&1; then
    tail -n 20 "$dir.log" >&2
    tchat::as_root rm -rf "$dir"
    tchat::die "debootstrap failed (log $dir.log)"
  fi
  tchat::_base_slim "$dir" "$mirror"
  tar -C "$dir" -c . | tchat::docker import \
    --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --message "debootstrap --variant=minbase bookworm $mirror" - "$TCHAT_BASE_IMAGE" >/dev/null
  tchat::as_root rm -rf "$dir" "$dir.log"
  tchat::log "made $TCHAT_BASE_IMAGE ($(tchat::docker image inspect -f '{{.Size}}' "$TCHAT_BASE_IMAGE") bytes)"
}

# The root filesystem $1 made small and kept up to date like the official image:
# the archive's updates and security suites, no package caches, and dpkg told to
# leave documentation, manuals and translations out of every later install.
tchat::_base_slim() {
  local dir="$1" mirror="$2"
  tchat::as_root tee "$dir/etc/apt/sources.list" >/dev/null <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SOURCES
  tchat::as_root tee "$dir/etc/dpkg/dpkg.cfg.d/tchat-slim" >/dev/null <<'DPKG'
# No documentation, manuals or translations in the image (as Debian's slim images).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
DPKG
  tchat::as_root tee "$dir/etc/apt/apt.conf.d/tchat-slim" >/dev/null <<'APT'
// No package cache in the image layers.
APT::Keep-Downloaded-Packages "false";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
  tchat::as_root find "$dir/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  tchat::as_root find "$dir/usr/share/doc" -mindepth 1 -type d -empty -delete
  tchat::as_root rm -rf "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/var/cache/apt/archives/*.deb \
    "$dir"/var/cache/apt/*.bin "$dir"/var/lib/apt/lists/* "$dir"/var/log/* "$dir"/usr/share/lintian
  tchat::as_root find "$dir/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
}
