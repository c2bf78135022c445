#!/usr/bin/env bash
# promtool, from Debian's prometheus package, checks and unit-tests deploy/observability's rules
# (tests/deploy/test_observability.py); the package's own Prometheus is never started.
set -euo pipefail
"$(dirname "$0")/ensure-deb.sh" /usr/bin/promtool prometheus >/dev/null
/usr/bin/promtool --version | head -1
