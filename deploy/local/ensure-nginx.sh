#!/usr/bin/env bash
# Debian's nginx for the gateway's live test (tests/security/test_gateway.py): installed with
# apt-get when missing, and never started as a system service (the test runs its own instance on
# a free port with deploy/gateway/nginx.conf). Safe to run again.
set -euo pipefail
NGINX=/usr/sbin/nginx

if [[ ! -x "$NGINX" ]]; then
  if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "nginx is missing and this user cannot install packages (no root, no sudo)" >&2
    exit 1
  fi
  echo "installing Debian's nginx..."
  # policy-rc.d 101: the package's scripts must not start a system nginx on port 80.
  policy=/usr/sbin/policy-rc.d
  created=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod +x "$policy"
    created=1
  fi
  trap '[[ $created -eq 1 ]] && "${SUDO[@]}" rm -f "$policy"' EXIT
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
    nginx
fi

"$NGINX" -v
