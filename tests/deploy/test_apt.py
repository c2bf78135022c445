"""Every apt-get the project runs waits for the dpkg lock instead of failing when another install
holds it (a test run beside an unattended upgrade, or two of our own scripts at once)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.deploy.support import DEPLOY

# an apt-get that acts: update, install or upgrade (hints in messages and comments do not run)
RUNS = re.compile(r"apt-get\s+(?:-o\s+\S+\s+|-\S+\s+)*(update|install|upgrade)\b")
WAITS = "-o DPkg::Lock::Timeout=600"


def scripts() -> list[Path]:
    return sorted(
        p
        for p in DEPLOY.rglob("*")
        if p.is_file() and (p.suffix == ".sh" or p.name == "Dockerfile")
    )


def running_lines(path: Path) -> list[str]:
    found = []
    for line in path.read_text().splitlines():
        code = line.strip()
        if code.startswith("#") or re.search(r"\b(die|log|echo)\b\s+\"", code):
            continue
        if RUNS.search(code):
            found.append(code)
    return found


def test_every_apt_get_waits_for_the_dpkg_lock() -> None:
    missing = {
        str(path.relative_to(DEPLOY)): line
        for path in scripts()
        for line in running_lines(path)
        if WAITS not in line
    }
    assert missing == {}


def test_the_check_sees_the_installs() -> None:
    """The installer the browser and gateway tests use, and PostgreSQL's, are among them."""
    seen = {p.name for p in scripts() if running_lines(p)}
    assert {"ensure-deb.sh", "postgres.sh", "Dockerfile"} <= seen
