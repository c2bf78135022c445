#!/usr/bin/env bash
# ensure-deb.sh BINARY PACKAGE...: installs Debian's PACKAGEs with apt-get when BINARY is missing,
# and never lets their scripts start a system service (policy-rc.d 101): the tests run their own
# instance on a free port. Safe to run again. Prints the binary's path.
set -euo pipefail
binary=$1
shift
(($# > 0)) || { echo "usage: ensure-deb.sh BINARY PACKAGE..." >&2; exit 2; }

if [[ ! -x "$binary" ]]; then
  if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "$binary is missing and this user cannot install packages (no root, no sudo)" >&2
    exit 1
  fi
  echo "installing Debian's $*..." >&2
  policy=/usr/sbin/policy-rc.d
  created=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod +x "$policy"
    created=1
  fi
  trap '[[ $created -eq 1 ]] && "${SUDO[@]}" rm -f "$policy"' EXIT
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q >&2
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
    --no-install-recommends "$@" >&2
fi
[[ -x "$binary" ]] || { echo "$* installed, but $binary is still missing" >&2; exit 1; }
echo "$binary"
