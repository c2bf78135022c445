"""Docker HEALTHCHECK for the ctip image (python's standard library only).

`serve`: the API's /healthz answers 200. `worker`: PostgreSQL and Kafka accept a connection.
It runs every 15 s in every container, so it reads the environment the way the services'
settings do (CTIP_<SERVICE>_X, then CTIP_X, then the default) instead of importing them:
importing a service's settings costs a second of CPU (FastAPI, pydantic), and twenty containers
paying it every interval kept a two-core host busy with healthchecks alone.
"""

import os
import socket
import sys
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

PORTS = {
    "intake": 8001,
    "casework": 8002,
    "victim_support": 8003,
    "interagency": 8004,
    "outreach": 8005,
    "notifications": 8006,
}
DATABASE_URL = "postgresql+asyncpg://ctip_app:ctip_app@127.0.0.1:5432/ctip"
KAFKA_BOOTSTRAP = "127.0.0.1:9092"


def setting(env: Mapping[str, str], service: str, name: str, default: str) -> str:
    """As libs/common/settings.py reads it: the service's prefix first, then the shared one."""
    own = env.get(f"CTIP_{service.upper()}_{name}")
    return own if own is not None else env.get(f"CTIP_{name}", default)


def check(argv: Sequence[str], env: Mapping[str, str]) -> int:
    roles = [a for a in argv if a in ("serve", "worker", "migrate", "token")]
    if not roles or roles[0] in ("migrate", "token"):
        return 0
    service = argv[argv.index(roles[0]) + 1]
    if roles[0] == "serve":
        if "--port" in argv:
            port = int(argv[argv.index("--port") + 1])
        else:
            port = int(setting(env, service, "HTTP_PORT", str(PORTS[service])))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
            return 0 if response.status == 200 else 1
    database = setting(env, service, "DATABASE_URL", DATABASE_URL)
    kafka = setting(env, service, "KAFKA_BOOTSTRAP", KAFKA_BOOTSTRAP)
    host = database.rsplit("@", 1)[-1].split("/", 1)[0]
    targets = [(host, 5432)] + [(server, 9092) for server in kafka.split(",")]
    for target, default in targets:
        name, colon, port = target.strip().rpartition(":")
        address = (name, int(port)) if colon else (target.strip(), default)
        with socket.create_connection(address, timeout=3):
            pass
    return 0


if __name__ == "__main__":
    try:
        sys.exit(check(Path("/proc/1/cmdline").read_bytes().decode().split("\0"), os.environ))
    except Exception as exc:
        print(f"unhealthy: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
