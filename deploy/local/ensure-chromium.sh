#!/usr/bin/env bash
# Debian's Chromium for the dashboard's end-to-end tests (tests/e2e): installed with apt-get when
# /usr/bin/chromium is missing, never downloaded by a test tool. Safe to run again.
set -euo pipefail
CHROMIUM=/usr/bin/chromium

if [[ ! -x "$CHROMIUM" ]]; then
  if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "chromium is missing and this user cannot install packages (no root, no sudo)" >&2
    exit 1
  fi
  echo "installing Debian's chromium..."
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
    chromium fonts-dejavu-core
fi

"$CHROMIUM" --version
