#!/usr/bin/env bash
# Debian's nginx for the gateway's live test (tests/security/test_gateway.py), never started as a
# system service (the test runs its own instance on a free port with deploy/gateway/nginx.conf).
set -euo pipefail
"$(dirname "$0")/ensure-deb.sh" /usr/sbin/nginx nginx >/dev/null
/usr/sbin/nginx -v
