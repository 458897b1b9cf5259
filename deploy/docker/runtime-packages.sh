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
# "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)": the file it resolves
# to. Debian 12 is merged-/usr: dpkg knows each file under /lib or /usr/lib, so
# both spellings are asked, in one dpkg call (it is slow per call).
mapfile -t paths < <(awk '$2 == "=>" && $3 ~ /^\// {print $3}' <<<"$libs" | xargs -r readlink -f | sort -u)
((${#paths[@]} > 0)) || exit 0
mapfile -t queries < <(for p in "${paths[@]}"; do echo "${p#/usr}"; echo "/usr${p#/usr}"; done)
owners="$(dpkg -S "${queries[@]}" 2>/dev/null || true)"
for p in "${paths[@]}"; do
  if ! awk -v a="${p#/usr}" -v b="/usr${p#/usr}" -F': ' '$NF == a || $NF == b {f = 1} END {exit !f}' \
    <<<"$owners"; then
    echo "error: $bin: $p belongs to no package" >&2
    exit 1
  fi
done
# "libfoo1:amd64: /lib/x86_64-linux-gnu/libfoo.so.1": the package names.
sed -E 's/^([^:]+)(:[a-z0-9]+)?: .*/\1/' <<<"$owners" | sort -u
