"""A TypeScript frontend's view: types generated with openapi-typescript from every service's
document, and a small program (clients/typescript/src/example.ts: file a tip, look its receipt
up, page through tips with the cursor) that tsc type-checks against them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import SERVICES

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "typescript"


def npm_path() -> str:
    found = shutil.which("npm")
    if found is None:
        pytest.fail("npm is missing: install Node.js (Debian: apt-get install nodejs npm)")
    return found


def npm(*args: str) -> str:
    done = subprocess.run(
        [npm_path(), *args], cwd=CLIENT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, (
        f"npm {' '.join(args)}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    )
    return done.stdout


@pytest.fixture(scope="module")
def toolchain() -> None:
    if not (CLIENT / "node_modules" / ".bin" / "tsc").exists():
        npm("ci", "--no-audit", "--no-fund")


@pytest.fixture(scope="module")
def generated(toolchain: None, openapi_documents: dict[str, Path]) -> Path:
    folder = CLIENT / "generated"
    folder.mkdir(exist_ok=True)
    for service in SERVICES:
        npm(
            "exec",
            "--",
            "openapi-typescript",
            str(openapi_documents[service]),
            "-o",
            str(folder / f"{service}.ts"),
        )
    return folder


def test_every_service_generates_types(generated: Path) -> None:
    for service in SERVICES:
        text = (generated / f"{service}.ts").read_text()
        assert "export interface paths" in text and '"/v1/' in text, service


def test_the_example_program_type_checks_against_the_generated_types(generated: Path) -> None:
    npm("exec", "--", "tsc", "--noEmit", "-p", ".")


def test_the_check_catches_a_field_that_is_not_in_the_contract(
    generated: Path, tmp_path: Path
) -> None:
    """A misspelt response field fails tsc: the check above can fail."""
    broken = CLIENT / "src" / "broken_example.ts"
    source = (CLIENT / "src" / "example.ts").read_text()
    broken.write_text(source.replace("data.receipt_code", "data.receipt_kode"))
    try:
        done = subprocess.run(
            [npm_path(), "exec", "--", "tsc", "--noEmit", "-p", "."],
            cwd=CLIENT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        broken.unlink()
    assert done.returncode != 0 and "receipt_kode" in done.stdout + done.stderr
