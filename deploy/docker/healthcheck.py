"""Docker HEALTHCHECK for the ctip image (python's urllib only)."""

import importlib
import socket
import sys
import urllib.request
from pathlib import Path

SETTINGS = {
    "intake": "IntakeSettings",
    "casework": "CaseworkSettings",
    "victim_support": "VictimSupportSettings",
    "interagency": "InteragencySettings",
    "outreach": "OutreachSettings",
}


def main() -> int:
    argv = Path("/proc/1/cmdline").read_bytes().decode().split("\0")
    roles = [a for a in argv if a in ("serve", "worker", "migrate", "token")]
    if not roles or roles[0] in ("migrate", "token"):
        return 0
    service = argv[argv.index(roles[0]) + 1]
    module = importlib.import_module(f"services.{service}.settings")
    settings = getattr(module, SETTINGS[service])()
    if roles[0] == "serve":
        port = int(argv[argv.index("--port") + 1]) if "--port" in argv else settings.http_port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
            return 0 if response.status == 200 else 1
    host = settings.database_url.rsplit("@", 1)[-1].split("/", 1)[0]
    targets = [host, *settings.kafka_bootstrap.split(",")]
    for target in targets:
        name, _, port = target.strip().rpartition(":")
        with socket.create_connection((name or target, int(port or 5432)), timeout=3):
            pass
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:
        print(f"unhealthy: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
