#!/usr/bin/env bash
# Debian's Chromium for the dashboard's end-to-end tests (tests/e2e), never downloaded by a test
# tool. Safe to run again.
set -euo pipefail
"$(dirname "$0")/ensure-deb.sh" /usr/bin/chromium chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
