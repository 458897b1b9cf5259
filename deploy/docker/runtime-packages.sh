#!/bin/bash
# Prints the Debian packages that hold the shared libraries binary $1 loads (ldd),
# one a line: what its runtime image installs (deploy/docker/Dockerfile). Derived
# from the binary, never written by hand; fails when a library is not found or
# belongs to no package.
set -euo pipefail
bin="${1:?usage: runtime-packages.sh BINARY}"
libs="$(ldd "$bin")"
if grep -q 'not found' <<<"$libs"; then
  echo "error: $bin: $(grep 'not found' <<<"$libs" | tr -s ' \t' ' ')" >&2
  exit 1
fi
# "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)": the file it resolves to.
while read -r path; do
  real="$(readlink -f "$path")"
  # Debian 12 is merged-/usr: dpkg may know the file under /lib or /usr/lib.
  owner="$(dpkg -S "$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null ||
    dpkg -S "/usr$real" 2>/dev/null)" || {
    echo "error: $bin: $real belongs to no package" >&2
    exit 1
  }
  echo "${owner%%:*}"
done < <(awk '$2 == "=>" && $3 ~ /^\// {print $3}' <<<"$libs") | sort -u
