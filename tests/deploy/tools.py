"""The programs some deploy checks run: ``docker compose`` (or ``docker-compose``) and
``kubectl``. A missing docker-compose is installed from Debian's packages, as a fresh machine
needs it (a ``docker`` client without its compose plugin is compose missing); a check skips
only where its program is not installed at all and cannot be, and says so at the end of the run
(``conftest.py``); an installed program that does not answer is a failure, not a skip; and on CI
(``CI`` set, as CI services do) a missing program is a failure too, so that no skip there hides
a broken compose file or Kustomize base (issue 21)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

COMPOSE_CANDIDATES = (("docker", "compose"), ("docker-compose",))


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(reason: str) -> NoReturn:
    if on_ci():
        pytest.fail(f"{reason}, and CI must run this check (CI={os.environ['CI']})")
    pytest.skip(reason)


def compose_command() -> list[str]:
    """``docker compose`` (the plugin) or else ``docker-compose`` (v1: CI has 1.29.2), whichever
    answers ``version``, or else Debian's docker-compose installed, if it answers; a skip only
    where nothing answers and nothing could be installed."""
    refused = []
    for name, *rest in COMPOSE_CANDIDATES:
        executable = shutil.which(name)
        if executable is None:
            continue
        why = _refusal([executable, *rest])
        if why is None:
            return [executable, *rest]
        refused.append(why)
    # Neither answers: compose is not installed (a `docker` client without its compose plugin,
    # as on a machine whose docker CLI is a lone static binary, is not compose), so install it
    # as a fresh machine would. An installed one that does not answer stays a failure.
    installed = install_docker_compose()
    if installed is None:
        if not refused:
            missing("neither `docker` nor `docker-compose` is installed, and apt-get failed")
        pytest.fail("no compose answers and apt-get failed: " + "; ".join(refused))
    why = _refusal([installed])
    if why is not None:
        pytest.fail("no compose answers: " + "; ".join([*refused, why]))
    return [installed]


def _refusal(command: list[str]) -> str | None:
    """None when ``command version`` answers; else what it said."""
    probe = subprocess.run(
        [*command, "version"], capture_output=True, text=True, check=False, timeout=60
    )
    if probe.returncode == 0:
        return None
    answer = (probe.stderr or probe.stdout).strip()[:300]
    return f"`{' '.join(command)} version` exits {probe.returncode}: {answer}"


def install_docker_compose() -> str | None:
    """Debian's docker-compose (1.29.2), as a fresh machine gets it: ``config`` needs no engine."""
    ensure = Path(__file__).resolve().parents[2] / "deploy" / "local" / "ensure-deb.sh"
    done = subprocess.run(
        [str(ensure), "/usr/bin/docker-compose", "docker-compose"],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def kubectl_command() -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        missing("kubectl is not installed (apt-get install kubectl, or see kubernetes.io)")
    return kubectl
