"""A stack of the fault suite's own: PostgreSQL and Kafka started by the project's scripts from a
copy of ``deploy/local`` in a temporary directory, so that its ``.run/`` (data, pid files, logs)
and its ports are its own. The local stack on the default ports, which other people's tests use,
is never touched: every kill here goes to a pid read from this stack's own files.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASH = shutil.which("bash") or "/bin/bash"
UV = shutil.which("uv") or "uv"
DEFAULT_PORTS = {5432, 9092, 9093}


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(rng_seed: int | None = None) -> tuple[int, int]:
    """A PostgreSQL port and a Kafka port whose next one (the controller) is free too."""
    import random

    rng = random.Random(rng_seed)
    while True:
        pg, kafka = rng.randrange(31000, 39000), rng.randrange(41000, 49000)
        if {pg, kafka, kafka + 1} & DEFAULT_PORTS:
            continue
        if _free(pg) and _free(kafka) and _free(kafka + 1):
            return pg, kafka


@dataclass
class FaultStack:
    root: Path
    pg_port: int
    kafka_port: int
    log: list[str] = field(default_factory=list)

    @classmethod
    def create(cls) -> FaultStack:
        root = Path(tempfile.mkdtemp(prefix="ctip-faults-"))
        root.chmod(0o755)  # the postgres system user must reach .run/postgres when we are root
        shutil.copytree(ROOT / "deploy/local", root / "deploy/local")
        kafka_run = root / ".run/kafka"
        kafka_run.mkdir(parents=True)
        main_libs = ROOT / ".run/kafka/libs"
        if (main_libs / ".pom.sha256").exists():
            # The broker jars, already fetched by the main checkout (read-only use).
            (kafka_run / "libs").symlink_to(main_libs, target_is_directory=True)
        pg, kafka = free_ports()
        return cls(root, pg, kafka)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CTIP_PG_PORT": str(self.pg_port),
            "CTIP_KAFKA_PORT": str(self.kafka_port),
            "CTIP_KAFKA_CONTROLLER_PORT": str(self.kafka_port + 1),
        }

    @property
    def database_url(self) -> str:
        """The services' runtime role (postgres.sh makes it; ``ctip migrate`` grants it)."""
        return f"postgresql+asyncpg://ctip_app:ctip_app@127.0.0.1:{self.pg_port}/ctip"

    @property
    def owner_database_url(self) -> str:
        """The schemas' owner, for the migrations."""
        return f"postgresql+asyncpg://ctip:ctip@127.0.0.1:{self.pg_port}/ctip"

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    def script(self, name: str, action: str, timeout: float = 240) -> None:
        started = time.monotonic()
        done = subprocess.run(
            [BASH, str(self.root / "deploy/local" / name), action],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.log.append(
            f"{name} {action}: rc={done.returncode} in {time.monotonic() - started:.1f}s"
        )
        if done.returncode != 0:
            raise RuntimeError(f"{name} {action} failed:\n{done.stdout[-2000:]}\n{done.stderr}")

    def up(self) -> None:
        self.script("stack.sh", "up", timeout=600)

    def down(self) -> None:
        self.script("stack.sh", "down", timeout=120)

    def kill_kafka(self) -> int:
        """``kill -9 $(cat .run/kafka/kafka.pid)`` of this stack's broker."""
        pid = int((self.root / ".run/kafka/kafka.pid").read_text().strip())
        os.kill(pid, signal.SIGKILL)
        self.log.append(f"kafka pid {pid} killed with SIGKILL")
        return pid

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Worker:
    """``uv run ctip worker <service>`` on the fault stack, in a process group of its own, so
    that SIGKILL reaches the Python process and not only ``uv``."""

    service: str
    stack: FaultStack
    topic_prefix: str
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0

    def start(self) -> None:
        env = {
            **self.stack.env,
            "CTIP_DATABASE_URL": self.stack.database_url,
            "CTIP_KAFKA_BOOTSTRAP": self.stack.kafka_bootstrap,
            "CTIP_TOPIC_PREFIX": self.topic_prefix,
            "CTIP_ENVIRONMENT": "test",
            "CTIP_LOG_LEVEL": "WARNING",
            "CTIP_RELAY_POLL_SECONDS": "0.5",
        }
        log = (self.stack.root / f"worker-{self.service}.log").open("ab")
        self.process = subprocess.Popen(
            [UV, "run", "--frozen", "ctip", "worker", self.service],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def kill(self) -> None:
        """SIGKILL to the worker's whole process group (uv and the Python it runs)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.kills += 1

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
