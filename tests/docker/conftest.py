"""The compose stack as ops deploy it, started live: the Docker engine (installed and started when
missing), the local bases and the ctip image built without a registry, deploy/compose.yaml in
production mode with throwaway secrets and an RS256 key set served inside the network, then torn
down with its volumes. The identity provider is a stand-in that answers as Keycloak does
(``idp.py``): the key set, and the directory of officers that production reads. Only with
``-m docker`` (``make test-docker``); it never passes by
skipping: without an engine it fails and says why."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.docker import idp, partner
from tests.docker.partner import Receiver, make_tls

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROJECT = "ctipstack"
IMAGE = "ctip:stack-test"
ISSUER = idp.ISSUER
AUDIENCE = "ctip-api"
PROVINCE = "01"  # Hà Nội: the officers' jurisdiction
# the officers whose tokens the test mints (``Stack.token``), as the directory knows them
OFFICERS = ("intake_officer", "investigator", "social_worker", "supervisor", "admin")
PHASES: list[tuple[str, float]] = []
NOTES: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "docker: the compose stack, built and started live")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "docker" in (config.getoption("markexpr") or ""):
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="the compose stack runs with -m docker (make test-docker)")
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if PHASES:
        terminalreporter.section("compose stack: phase timings")
        for name, seconds in PHASES:
            terminalreporter.write_line(f"{name:<48} {seconds:7.1f} s")
        for note in NOTES:
            terminalreporter.write_line(note)


def run(*args: str, timeout: float = 900, check: bool = True, **kw: Any) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check and done.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} -> {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done.stdout


class Phase:
    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.started = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        PHASES.append((self.name, time.monotonic() - self.started))


def docker_client() -> str:
    """Debian's client builds with BuildKit built in; a newer one needs buildx."""
    return (
        "/usr/bin/docker"
        if Path("/usr/bin/docker").exists()
        else (shutil.which("docker") or "docker")
    )


def ensure_engine() -> str:
    docker = docker_client()
    if (
        shutil.which(docker)
        and subprocess.run([docker, "info"], capture_output=True).returncode == 0
    ):
        return docker
    if os.geteuid() != 0:
        pytest.fail("no Docker engine answers and this user cannot start one (not root)")
    # Each checked by its own binary: docker-compose alone may already be there (the deploy
    # checks install it for `config`), and must not stand for the engine.
    ensure = str(DEPLOY / "local/ensure-deb.sh")
    run(ensure, "/usr/sbin/dockerd", "docker.io", "docker-compose", "debootstrap")
    run(ensure, "/usr/bin/docker-compose", "docker-compose")
    docker = docker_client()
    log = open("/var/log/ctip-dockerd.log", "a")  # the daemon outlives this call
    subprocess.Popen(["/usr/sbin/dockerd"], stdout=log, stderr=log, start_new_session=True)
    for _ in range(60):
        if subprocess.run([docker, "info"], capture_output=True).returncode == 0:
            return docker
        time.sleep(1)
    pytest.fail(
        "dockerd did not start: see /var/log/ctip-dockerd.log (a machine without the "
        "privileges to run containers cannot run this test)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def b64(n: int) -> str:
    return base64.b64encode(os.urandom(n)).decode()


def b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class Stack:
    docker: str
    workdir: Path
    gateway: str
    key: rsa.RSAPrivateKey
    kid: str = "stack-test"
    files: list[str] = field(default_factory=list)
    partner_tls: tuple[Path, Path] | None = None

    def compose(self, *args: str, timeout: float = 900, check: bool = True) -> str:
        command = ["docker-compose", "-p", PROJECT, "--env-file", str(self.workdir / ".env")]
        for f in self.files:
            command += ["-f", f]
        return run(*command, *args, timeout=timeout, check=check, cwd=DEPLOY)

    def token(self, role: str, *jurisdiction: str, org: str | None = None) -> dict[str, str]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": f"stack-{role}",
            "roles": [role],
            "jurisdiction": list(jurisdiction),
            "iat": now,
            "exp": now + 3600,
            "iss": ISSUER,
            "aud": AUDIENCE,
        }
        if org:
            claims["org"] = org
        signed = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        return {"Authorization": f"Bearer {signed}"}

    def containers(self, service: str | None = None) -> list[str]:
        args = ["ps", "-q"] + ([service] if service else [])
        return [c for c in self.compose(*args).split() if c]

    def inspect(self, container: str, template: str) -> str:
        return run(self.docker, "inspect", "--format", template, container).strip()

    def wait_healthy(self, timeout: float = 420) -> None:
        deadline = time.monotonic() + timeout
        waiting: list[str] = []
        while time.monotonic() < deadline:
            waiting = []
            for c in self.containers():
                name = self.inspect(c, "{{.Name}}")
                state = self.inspect(
                    c,
                    "{{.State.Status}} {{.State.ExitCode}} "
                    "{{if .State.Health}}{{.State.Health.Status}}{{end}}",
                )
                status, code, *health = state.split()
                if "-migrate" in name:
                    if status == "exited" and code != "0":
                        raise AssertionError(
                            f"{name} failed:\n{run(self.docker, 'logs', c, check=False)}"
                        )
                    if status != "exited":
                        waiting.append(name)
                elif health != ["healthy"]:
                    waiting.append(f"{name} ({status} {' '.join(health)})")
            if not waiting:
                return
            time.sleep(3)
        logs = self.compose("logs", "--tail", "40", check=False)
        raise AssertionError(f"not healthy after {timeout:.0f}s: {waiting}\n{logs[-6000:]}")

    def kafka(self, *args: str) -> str:
        return self.compose("exec", "-T", "kafka", *args)

    def psql(self, sql: str) -> str:
        return self.compose(
            "exec", "-T", "postgres", "psql", "-U", "postgres", "-d", "ctip", "-At", "-c", sql
        )


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if shutil.which("docker-compose") is None and os.geteuid() != 0:
        pytest.fail("docker-compose is missing (Debian: apt-get install docker-compose)")
    with Phase("engine: installed and started if missing"):
        docker = ensure_engine()
    env_lines: list[str] = []
    with Phase("bases: built from Debian and Maven Central"):
        env = {**os.environ, "DOCKER": docker}
        if Path("/etc/ssl/certs/ca-certificates.crt").exists():
            env.setdefault("CTIP_CA_CERTIFICATES", "/etc/ssl/certs/ca-certificates.crt")
        env_lines = run(str(DEPLOY / "docker/bases.sh"), env=env, timeout=1800).splitlines()
    images = dict(line.split("=", 1) for line in env_lines if line.startswith("CTIP_"))
    with Phase("ctip image: built on the bases"):
        run(
            docker,
            "build",
            "-f",
            "deploy/Dockerfile",
            "--build-arg",
            f"PYTHON_IMAGE={images['CTIP_PYTHON_IMAGE']}",
            "--build-arg",
            f"UV_IMAGE={images['CTIP_UV_IMAGE']}",
            "-t",
            IMAGE,
            ".",
            cwd=ROOT,
            env={**os.environ, "DOCKER_BUILDKIT": "1"},
            timeout=1800,
        )

    # where the webhook sender's HTTP client reads the CAs it trusts (partner.py)
    certifi_in_image = run(
        docker,
        "run",
        "--rm",
        "--entrypoint",
        "python",
        IMAGE,
        "-c",
        "import certifi; print(certifi.where())",
    ).strip()

    workdir = tmp_path_factory.mktemp("stack")
    bundle, cert, private = make_tls(workdir / "partner-tls")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": "stack-test", "use": "sig", "alg": "RS256"}
    jwk |= {"n": b64url_uint(public.n), "e": b64url_uint(public.e)}
    officers = [
        {"sub": f"stack-{role}", "roles": [role], "jurisdiction": [PROVINCE]}
        | {"email": f"{role}@stack.ctip.test", "locale": "vi"}
        for role in OFFICERS
    ]
    sso = idp.prepare(workdir / "idp", {"keys": [jwk]}, officers)
    directory_secret = secrets.token_urlsafe(24)
    port = free_port()
    values = {
        "CTIP_ENVIRONMENT": "production",
        "CTIP_FIELD_KEYS": f"k1:{b64(32)}",
        "CTIP_BLIND_INDEX_KEY": b64(32),
        "CTIP_AUDIT_KEY": b64(32),
        "CTIP_JWT_SECRET": secrets.token_urlsafe(48),
        "CTIP_JWT_JWKS_URL": idp.JWKS_URL,
        "CTIP_JWT_ISSUER": ISSUER,
        "CTIP_JWT_AUDIENCE": AUDIENCE,
        "CTIP_CORS_ORIGINS": "[]",
        "CTIP_LOG_LEVEL": "INFO",
        "CTIP_INTAKE_TRIAGE_PROVINCE": "01",
        "CTIP_INTERAGENCY_ALERT_DESK_PROVINCE": "01",
        "CTIP_DIRECTORY_URL": idp.DIRECTORY_URL,
        "CTIP_DIRECTORY_CLIENT_SECRET": directory_secret,
        # no mail server in the stack: e-mails fail and wait for their retries
        "CTIP_NOTIFICATIONS_SMTP_HOST": "smtp.stack.invalid",
        "CTIP_NOTIFICATIONS_SMTP_FROM": "ctip <no-reply@stack.ctip.test>",
        "CTIP_NOTIFICATIONS_LINK_BASE_URL": f"http://127.0.0.1:{port}",
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "DB_PASSWORD": secrets.token_urlsafe(24),
        "DB_APP_PASSWORD": secrets.token_urlsafe(24),
        "KAFKA_CLUSTER_ID": "Jh3dgwFjSVGwreTd0YQXdA",
        "APP_IMAGE": IMAGE,
        "GATEWAY_PORT": str(port),
        **images,
    }
    (workdir / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    override = workdir / "stack-test.yaml"
    override.write_text(
        json.dumps(
            {
                "services": {
                    idp.HOST: idp.compose_service(IMAGE, sso, directory_secret),
                    # every story's anonymous filings come from the one address docker's port
                    # proxy gives this test, where the public's come from many (20 an hour each)
                    "intake-api": {
                        "environment": {"CTIP_INTAKE_ANONYMOUS_FILINGS_PER_HOUR": "1000"}
                    },
                    # a partner province on a public address over TLS, as production allows
                    "interagency-api": {"extra_hosts": [f"{partner.HOST}:{partner.ADDRESS}"]},
                    "interagency-worker": {
                        "extra_hosts": [f"{partner.HOST}:{partner.ADDRESS}"],
                        "networks": ["default", "partners"],
                        "volumes": [f"{bundle}:{certifi_in_image}:ro"],
                    },
                },
                "networks": {
                    "partners": {
                        "ipam": {"config": [{"subnet": partner.SUBNET, "gateway": partner.ADDRESS}]}
                    }
                },
            }
        )
    )
    built = Stack(
        docker,
        workdir,
        f"http://127.0.0.1:{port}",
        key,
        files=[str(DEPLOY / "compose.yaml"), str(override)],
        partner_tls=(cert, private),
    )
    try:
        with Phase("compose up: migrations, 6 APIs, 6 workers, gateway healthy"):
            # the gateway last: docker-compose 1.29 gives up on a dependency that is unhealthy
            # for a moment (a slow healthcheck on a loaded machine) instead of waiting for it
            everything = built.compose("--profile", "observability", "config", "--services")
            # (docker-compose 1.29 lists every profile's services: keycloak has no local base)
            first = [name for name in everything.split() if name not in ("gateway", "keycloak")]
            built.compose("--profile", "observability", "up", "-d", "--no-build", *first)
            built.wait_healthy()
            built.compose("--profile", "observability", "up", "-d", "--no-build", "gateway")
            built.wait_healthy()
        yield built
    finally:
        with Phase("compose down -v"):
            built.compose(
                "--profile", "observability", "down", "-v", "--remove-orphans", check=False
            )
        left = run(
            docker,
            "ps",
            "-aq",
            "--filter",
            f"label=com.docker.compose.project={PROJECT}",
            check=False,
        ).split()
        assert left == [], f"containers left running: {left}"


@pytest.fixture(scope="session")
def receiver(stack: Stack) -> Iterator[Receiver]:
    """The partner province's HTTPS endpoint, on this host's address in the stack's partner
    network (which exists once the stack is up)."""
    assert stack.partner_tls is not None
    found = Receiver(*stack.partner_tls)
    found.start()
    try:
        yield found
    finally:
        found.stop()
