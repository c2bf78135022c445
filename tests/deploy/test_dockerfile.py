"""deploy/Dockerfile: a lean, unprivileged runtime stage that runs any service in any role."""

from __future__ import annotations

import ast
import os
import re
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from types import ModuleType

import pytest

from tests.deploy.support import DEPLOY, ROOT, services, settings_class

DOCKERFILE = DEPLOY / "Dockerfile"
COMPILERS = ("build-essential", "gcc", "g++", "clang", "make", "libc6-dev", "python3-dev", "cargo")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuations joined and heredoc bodies kept in COPY."""
    lines = DOCKERFILE.read_text(encoding="utf-8").splitlines()
    result: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        while line.endswith("\\") and i < len(lines):
            line = line[:-1] + " " + lines[i].strip()
            i += 1
        keyword, _, rest = line.strip().partition(" ")
        heredoc = re.search(r"<<-?'?\"?(\w+)'?\"?", rest)
        if heredoc:
            body = []
            while lines[i].strip() != heredoc.group(1):
                body.append(lines[i])
                i += 1
            i += 1
            rest += "\n" + "\n".join(body)
        result.append((keyword.upper(), rest))
    return result


def stages() -> list[Stage]:
    found: list[Stage] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            found.append(Stage(parts[0], name))
        elif found:
            found[-1].instructions.append((keyword, rest))
    return found


def final_stage() -> Stage:
    return stages()[-1]


def test_final_stage_is_python_311_slim_bookworm() -> None:
    args = dict(
        rest.split("=", 1) for keyword, rest in instructions() if keyword == "ARG" and "=" in rest
    )
    base = final_stage().base
    base = args.get(base.strip("${}"), base)
    assert base == "python:3.11-slim-bookworm"


def test_venv_is_built_by_uv_from_the_lock_without_dev_dependencies_or_editable_install() -> None:
    build = [s for s in stages() if s.name == "build"]
    assert build, "a stage named build"
    runs = " ".join(rest for keyword, rest in build[0].instructions if keyword == "RUN")
    assert re.search(r"uv sync --frozen --no-dev --no-editable", runs)
    copied = [rest for keyword, rest in final_stage().instructions if keyword == "COPY"]
    assert any("--from=build /app/.venv /app/.venv" in c for c in copied)


def test_the_build_installs_the_sources_of_this_build_and_checks_it() -> None:
    """uv would reinstall a wheel of the project from an earlier build (its cache is a mount
    kept between builds) while pyproject.toml is unchanged: an image shipped without its newest
    service so. The project is reinstalled, and installed.py compares the package with the
    sources, in isolated mode (``-I``: nothing imported from the sources in the working dir)."""
    (build,) = [s for s in stages() if s.name == "build"]
    runs = [rest for keyword, rest in build.instructions if keyword == "RUN"]
    (install,) = [r for r in runs if re.search(r"uv sync\b(?!.*--no-install-project)", r)]
    assert "--reinstall-package ctip" in install
    assert re.search(r"/app/\.venv/bin/python -I installed\.py /src\b", install)
    copied = [rest for keyword, rest in build.instructions if keyword == "COPY"]
    assert "deploy/docker/installed.py ./installed.py" in copied


def test_final_stage_installs_no_compiler() -> None:
    for keyword, rest in final_stage().instructions:
        if keyword == "RUN":
            words = set(re.split(r"[\s;&|]+", rest))
            assert not words & set(COMPILERS), f"compiler in the runtime stage: {rest}"
        if keyword == "COPY" and "--from=" in rest:
            assert "--from=uv" not in rest, "uv itself stays in the build stage"


def test_final_stage_runs_as_a_non_root_user() -> None:
    users = [rest for keyword, rest in final_stage().instructions if keyword == "USER"]
    assert users, "USER in the runtime stage"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_healthcheck_uses_python_not_curl() -> None:
    checks = [rest for keyword, rest in final_stage().instructions if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "python" in checks[0] and "curl" not in checks[0] and "wget" not in checks[0]


def healthcheck_script() -> str:
    for keyword, rest in instructions():
        words = rest.split()
        if keyword == "COPY" and words[-1] == "/app/healthcheck.py" and "--from" not in rest:
            return (ROOT / words[0]).read_text(encoding="utf-8")
    raise AssertionError("the healthcheck script is copied into the build stage")


def test_docker_20_10s_builtin_frontend_builds_it() -> None:
    """No ``# syntax`` line (BuildKit would pull a frontend from a registry) and no heredoc
    (20.10's built-in frontend stops there)."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert not re.search(r"^#\s*syntax\s*=", text, re.M | re.I)
    assert not any("<<" in rest for _, rest in instructions())


def load_healthcheck() -> ModuleType:
    module = ModuleType("healthcheck")
    exec(compile(healthcheck_script(), "healthcheck.py", "exec"), module.__dict__)  # noqa: S102
    return module


def test_healthcheck_script_asks_healthz_with_urllib_and_knows_every_services_port() -> None:
    source = healthcheck_script()
    assert "urllib.request" in source and "/healthz" in source
    ports = load_healthcheck().PORTS
    assert set(ports) == set(services())
    for service, port in ports.items():
        assert settings_class(service)().http_port == port, service


def test_healthcheck_imports_neither_the_services_nor_pydantic() -> None:
    """It runs in every container every 15 s: a second of imports each time starves a host."""
    probe = (
        "import sys, runpy\n"
        "check = runpy.run_path('deploy/docker/healthcheck.py', run_name='probe')['check']\n"
        "for role in ('serve', 'worker'):\n"
        "    try: check(['ctip', role, 'casework', '--port', '1'], {'CTIP_KAFKA_BOOTSTRAP': ''})\n"
        "    except OSError: pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pydantic', 'pydantic_settings', 'fastapi', 'libs', 'services', 'sqlalchemy'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("service", services())
@pytest.mark.parametrize(
    "env",
    [
        {},
        {"CTIP_DATABASE_URL": "postgresql+asyncpg://u:p@db.shared:6543/ctip"},
        {
            "CTIP_DATABASE_URL": "postgresql+asyncpg://u:p@db.shared:6543/ctip",
            "CTIP_{SERVICE}_DATABASE_URL": "postgresql+asyncpg://u:p@db.own:5433/ctip",
            "CTIP_KAFKA_BOOTSTRAP": "k1:9092,k2:9093",
            "CTIP_HTTP_PORT": "9001",
        },
        {"CTIP_{SERVICE}_KAFKA_BOOTSTRAP": "own-kafka:9094", "CTIP_{SERVICE}_HTTP_PORT": "9002"},
    ],
)
def test_healthcheck_reads_the_environment_as_the_settings_do(
    service: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k.replace("{SERVICE}", service.upper()): v for k, v in env.items()}
    for name in [n for n in os.environ if n.startswith("CTIP_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = settings_class(service)()
    setting = load_healthcheck().setting
    assert setting(env, service, "DATABASE_URL", "default") == (
        settings.database_url if "DATABASE_URL" in str(env) else "default"
    )
    assert setting(env, service, "KAFKA_BOOTSTRAP", "default") == (
        settings.kafka_bootstrap if "KAFKA_BOOTSTRAP" in str(env) else "default"
    )
    assert setting(env, service, "HTTP_PORT", str(settings.http_port)) == str(settings.http_port)


def test_healthcheck_of_a_worker_connects_to_the_database_and_every_kafka_server() -> None:
    check = load_healthcheck().check
    with socket.socket() as db, socket.socket() as kafka:
        for s in (db, kafka):
            s.bind(("127.0.0.1", 0))
            s.listen()
        env = {
            "CTIP_DATABASE_URL": f"postgresql+asyncpg://u:p@127.0.0.1:{db.getsockname()[1]}/c",
            "CTIP_CASEWORK_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka.getsockname()[1]}",
        }
        assert check(["ctip", "worker", "casework"], env) == 0
        kafka.close()
        with pytest.raises(OSError):
            check(["ctip", "worker", "casework"], env)
    assert check(["ctip", "migrate", "casework"], {}) == 0


def test_entrypoint_is_the_ctip_command() -> None:
    entrypoints = [rest for keyword, rest in final_stage().instructions if keyword == "ENTRYPOINT"]
    assert entrypoints and ast.literal_eval(entrypoints[-1]) == ["ctip"]
    scripts = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'ctip = "libs.common.cli:main"' in scripts


def copied_sources() -> set[str]:
    """What COPY takes from the build context (not from a stage, not a heredoc)."""
    sources: set[str] = set()
    for keyword, rest in instructions():
        if keyword == "COPY" and "--from" not in rest and "<<" not in rest:
            words = [w for w in shlex.split(rest.splitlines()[0]) if not w.startswith("--")]
            sources.update(w.removeprefix("./") for w in words[:-1])
    return sources


def test_the_build_copies_what_the_package_needs_and_it_exists() -> None:
    sources = copied_sources()
    assert {"pyproject.toml", "uv.lock", "README.md", "libs", "services"} <= sources
    for source in sources:
        assert (ROOT / source).exists(), source


@pytest.mark.parametrize("service", services())
def test_every_service_role_is_a_command_of_the_cli(service: str) -> None:
    from libs.common.cli import main

    for argv in (["serve", service, "--help"], ["worker", service, "--help"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 0
    from libs.common.migrations import services_with_migrations

    assert service in services_with_migrations()
