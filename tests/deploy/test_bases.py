"""deploy/docker/: the local base images that stand in for the registry's, checked without Docker.

Each base builds with Docker 20.10's built-in BuildKit (no ``# syntax`` line, no heredoc), takes
its parent as a build argument, and covers an image that compose runs; the versions come from
the files that pin them (deploy/Dockerfile for uv, deploy/local/kafka/pom.xml for Kafka).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from tests.deploy.support import DEPLOY, ROOT, compose, compose_services

BASES = DEPLOY / "docker"
BASES_SH = BASES / "bases.sh"
NAMES = ("debian", "python", "uv", "postgres", "kafka", "nginx", "prometheus")
POM = "{http://maven.apache.org/POM/4.0.0}"
# the official image compose names → the base that stands in for it, and the variable selecting it
STAND_INS = {
    "postgres": ("postgres", "CTIP_POSTGRES_IMAGE"),
    "apache/kafka": ("kafka", "CTIP_KAFKA_IMAGE"),
    "nginxinc/nginx-unprivileged": ("nginx", "CTIP_NGINX_IMAGE"),
    "prom/prometheus": ("prometheus", "CTIP_PROMETHEUS_IMAGE"),
}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuations joined, comments dropped."""
    result: list[tuple[str, str]] = []
    logical = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not logical and (not line.strip() or line.lstrip().startswith("#")):
            continue
        logical += " " + line.strip().removesuffix("\\")
        if not line.endswith("\\"):
            keyword, _, rest = logical.strip().partition(" ")
            result.append((keyword.upper(), rest.strip()))
            logical = ""
    return result


def dockerfile(name: str) -> Path:
    return BASES / name / "Dockerfile"


@cache
def printed_variables() -> dict[str, str]:
    """What ``bases.sh --print`` says it builds (no Docker needed)."""
    bash = shutil.which("bash")
    assert bash
    out = subprocess.run(
        [bash, str(BASES_SH), "--print"], capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def version_of(image: str) -> str:
    return image.rpartition(":")[2]


def pom(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 (the repository's own poms)


def pom_property(path: Path, name: str) -> str:
    found = pom(path).find(f"{POM}properties/{POM}{name}")
    assert found is not None and found.text, f"{path.name}: no <{name}>"
    return found.text


@pytest.mark.parametrize("name", NAMES)
def test_every_base_builds_with_docker_20_10s_builtin_frontend(name: str) -> None:
    text = dockerfile(name).read_text(encoding="utf-8")
    assert not re.search(r"^#\s*syntax\s*=", text, re.M | re.I)
    assert not any("<<" in rest for _, rest in instructions(dockerfile(name)))


@pytest.mark.parametrize("name", NAMES)
def test_every_base_takes_its_parent_as_a_build_argument(name: str) -> None:
    steps = instructions(dockerfile(name))
    first_from = next(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    declared = dict(rest.split("=", 1) for keyword, rest in steps[:first_from] if keyword == "ARG")
    parent = steps[first_from][1].split()[0]
    variable = re.fullmatch(r"\$\{(\w+)\}", parent)
    assert variable, f"{name}: FROM {parent} is not a build argument"
    assert declared[variable.group(1)].startswith("ctip-local/")
    script = BASES_SH.read_text(encoding="utf-8")
    assert f'build {name} "$' in script
    assert f'--build-arg "{variable.group(1)}=' in script


@pytest.mark.parametrize("name", NAMES)
def test_what_every_base_copies_from_the_repository_exists(name: str) -> None:
    for keyword, rest in instructions(dockerfile(name)):
        if keyword == "COPY" and "--from" not in rest:
            for source in rest.split()[:-1]:
                path = ROOT / source
                assert path.exists(), f"{name}: COPY {source}"
                scripts = path.rglob("*.sh") if path.is_dir() else [path]
                for script in scripts:
                    if script.suffix == ".sh" or script.name == "policy-rc.d":
                        assert script.stat().st_mode & 0o111, f"{script} is not executable"


def test_the_kafka_base_runs_the_version_of_the_local_broker() -> None:
    local = DEPLOY / "local" / "kafka" / "pom.xml"
    image_pom = pom(BASES / "kafka" / "pom.xml")
    parent = image_pom.find(f"{POM}parent/{POM}relativePath")
    assert parent is not None and parent.text
    assert (BASES / "kafka" / parent.text).resolve() == local.resolve()
    versions = [v.text for v in image_pom.iter(f"{POM}version")]
    assert "${kafka.version}" in versions, "kafka-tools takes the parent's Kafka version"
    assert version_of(printed_variables()["CTIP_KAFKA_IMAGE"]) == pom_property(
        local, "kafka.version"
    )


def test_the_uv_base_is_the_version_the_dockerfile_names() -> None:
    args = dict(
        rest.split("=", 1)
        for keyword, rest in instructions(DEPLOY / "Dockerfile")
        if keyword == "ARG" and "=" in rest
    )
    assert args["UV_IMAGE"].startswith("ghcr.io/astral-sh/uv:"), "the official image by default"
    assert args["PYTHON_IMAGE"] == "python:3.11-slim-bookworm"
    assert version_of(printed_variables()["CTIP_UV_IMAGE"]) == version_of(args["UV_IMAGE"])


def test_the_python_base_has_the_interpreter_where_the_dockerfile_looks() -> None:
    wanted = re.search(r"UV_PYTHON=(\S+)", (DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    assert wanted
    runs = " ".join(r for k, r in instructions(dockerfile("python")) if k == "RUN")
    assert re.search(r"ln -s \S+ " + re.escape(wanted.group(1)) + r"\b", runs)
    assert "ca-certificates" in runs


def image_of(service: dict[str, object]) -> tuple[str | None, str]:
    """(the variable selecting it, the official image) of ``${VAR:-image}`` or ``image``."""
    image = str(service["image"])
    found = re.fullmatch(r"\$\{(\w+):?-([^}]+)\}", image)
    return (found.group(1), found.group(2)) if found else (None, image)


def test_every_image_compose_runs_has_a_local_base() -> None:
    """Keycloak (an optional profile) has no Debian package and stays the upstream image."""
    printed = printed_variables()
    for name, service in compose_services().items():
        if service.get("profiles") == ["keycloak"]:
            continue
        if "build" in service:
            assert {"CTIP_PYTHON_IMAGE", "CTIP_UV_IMAGE"} <= set(printed), name
            continue
        variable, official = image_of(service)
        repository = official.rpartition(":")[0]
        assert repository in STAND_INS, f"{name}: no local base stands in for {official}"
        base, expected = STAND_INS[repository]
        assert dockerfile(base).is_file()
        assert expected in printed
        assert variable in (None, expected), f"{name}: selected by {variable}, not {expected}"


def test_the_postgres_base_keeps_compose_s_contract() -> None:
    service = compose_services()["postgres"]
    text = dockerfile("postgres").read_text(encoding="utf-8")
    entrypoint = (BASES / "postgres" / "docker-entrypoint.sh").read_text(encoding="utf-8")
    data = next(v.split(":")[1] for v in service["volumes"] if v.startswith("pgdata:"))
    assert f"PGDATA={data}" in text
    scripts = [v.split(":")[1] for v in service["volumes"] if v.endswith(".sh:ro")]
    assert scripts and all(s.startswith("/docker-entrypoint-initdb.d/") for s in scripts)
    assert "/docker-entrypoint-initdb.d/*" in entrypoint
    for variable in service["environment"]:
        if variable.startswith("POSTGRES_"):
            assert variable in entrypoint, f"{variable} is not read by the entrypoint"
    assert service["healthcheck"]["test"][1] == "pg_isready"
    assert "pg_isready" in text
    users = [rest for keyword, rest in instructions(dockerfile("postgres")) if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_the_kafka_base_has_the_tool_of_compose_s_healthcheck() -> None:
    service = compose_services()["kafka"]
    tool = re.search(r"/opt/kafka/bin/(kafka-[\w-]+\.sh)", " ".join(service["healthcheck"]["test"]))
    assert tool
    name = tool.group(1).removeprefix("kafka-").removesuffix(".sh")
    runs = " ".join(r for k, r in instructions(dockerfile("kafka")) if k == "RUN")
    assert re.search(rf"for tool in [^;]*\b{name}\b", runs)
    launcher = (BASES / "kafka" / "bin" / "kafka-run-class.sh").read_text(encoding="utf-8")
    assert f"{tool.group(1)})" in launcher
    assert "CLUSTER_ID" in service["environment"]
    entrypoint = (BASES / "kafka" / "bin" / "docker-entrypoint.sh").read_text(encoding="utf-8")
    assert "CLUSTER_ID" in entrypoint and "KAFKA_" in entrypoint


def test_the_nginx_base_serves_the_gateway_as_compose_runs_it() -> None:
    gateway = compose_services()["gateway"]
    runs = " ".join(r for k, r in instructions(dockerfile("nginx")) if k == "RUN")
    assert gateway["healthcheck"]["test"][1] in runs.split(), "the healthcheck's command"
    listens = re.findall(r"listen\s+(\d+)", (DEPLOY / "gateway" / "nginx.conf").read_text())
    exposed = [r for k, r in instructions(dockerfile("nginx")) if k == "EXPOSE"]
    assert listens and exposed and set(listens) <= set(exposed[-1].split())
    users = [rest for keyword, rest in instructions(dockerfile("nginx")) if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert compose()["services"]["gateway"]["read_only"] is True


def test_the_live_smoke_test_runs_kafka_and_postgres_as_compose_does() -> None:
    """deploy/docker/smoke.sh (live, not part of `make test`) stays in step with compose."""
    smoke = (BASES / "smoke.sh").read_text(encoding="utf-8")
    kafka = compose_services()["kafka"]
    for variable in kafka["environment"]:
        assert f"-e {variable}=" in smoke, f"smoke.sh does not set {variable}"
    assert kafka["healthcheck"]["test"][1] in smoke, "compose's healthcheck, word for word"
    postgres = compose_services()["postgres"]
    assert " ".join(postgres["healthcheck"]["test"][1:4]) in smoke
