"""docs/integrations/ngo.md and examples/ngo/deliveries.py are what an NGO's developer gets: the
example, run as a program of its own, sends a file of deliveries to a real victim_support
service (uvicorn on a loopback port, PostgreSQL and Kafka of the local stack) with the token
``ctip token --client ngo-hoa-sen`` mints, gets its 207, and the donor report.

Set up through the API as it happens: an admin registers the NGO's program, a social worker
receives people and records who consented to share with the NGO, and the NGO's system (its
client token) enrolls them."""

from __future__ import annotations

import asyncio
import base64
import csv
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from openpyxl import load_workbook

from libs.common.cli import client_token, service_account
from libs.common.settings import ServiceSettings
from services.victim_support.app import create_app
from services.victim_support.settings import VictimSupportSettings
from tests.e2e.conftest import Served, _listening_socket
from tests.integration.victim_support.support import (
    PROGRAMS_WARD,
    TODAY,
    admin,
    consent,
    identify,
    read,
    receive,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/ngo/deliveries.py"
DOC = ROOT / "docs/integrations/ngo.md"
CLIENT = "ngo-hoa-sen"
ORG = str(service_account(CLIENT).org)  # ngo-demo-hoa-sen, from the realm file's org mapper
SECRET = "synthetic-client-secret"  # the fake token endpoint's, below; never a real one


@pytest.fixture
async def served(settings_for: Callable[..., Any]) -> AsyncIterator[Served]:
    server = Served(
        "victim_support", create_app(settings_for(VictimSupportSettings)), _listening_socket()
    )
    try:
        await server.start()
        yield server
    finally:
        await server.stop()


def ngo_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {client_token(ServiceSettings(), CLIENT)}"}


@dataclass
class Setup:
    program_id: str
    enrolled: str  # consented, enrolled
    enrolled_as: str  # the NGO's own reference for them, given at enrollment
    withdrawn: str  # consented, enrolled, then withdrew the consent
    stranger: str  # received, never consented to share with the NGO


async def set_up(base_url: str) -> Setup:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        response = await client.post(
            "/v1/programs",
            headers={**admin(), "Idempotency-Key": f"program-{uuid.uuid4()}"},
            json={
                "name": "Reintegration (synthetic)",
                "org": ORG,
                "funder": "Synthetic Donor Fund",
                "support_types": ["psychological", "vocational_training"],
                "period": {"start": f"{TODAY.year - 1}-01-01", "end": f"{TODAY.year + 1}-12-31"},
            },
        )
        assert response.status_code == 201, response.text
        pid: str = response.json()["id"]
        people = []
        for _ in range(3):
            vid: str = (await receive(client, PROGRAMS_WARD))["id"]
            await identify(client, vid)
            people.append(vid)
        enrolled, withdrawn, stranger = people
        for vid in (enrolled, withdrawn):
            await consent(client, vid, ORG)
            response = await client.post(
                f"/v1/programs/{pid}/enrollments",
                headers=ngo_headers(),
                json={"victim_id": vid, "external_id": f"HS-{vid[-12:]}"},
            )
            assert response.status_code == 201, response.text
            assert response.json()["consent_active"] is True
        # The NGO cannot enroll someone who did not consent to share with it.
        response = await client.post(
            f"/v1/programs/{pid}/enrollments",
            headers=ngo_headers(),
            json={"victim_id": stranger, "external_id": "HS-stranger"},
        )
        assert response.status_code == 422, response.text
        await consent(client, withdrawn, ORG, granted=False)
        return Setup(pid, enrolled, f"HS-{enrolled[-12:]}", withdrawn, stranger)


async def run_example(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Any:
    """The example as an NGO runs it: its own process, nothing of ctip imported."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(EXAMPLE), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), **(env or {})},
        check=False,
    )


def lines_of(stdout: str, status: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith(status + " ")]


async def test_the_example_sends_a_csv_batch_and_gets_the_207_and_the_report(
    served: Served, tmp_path: Path
) -> None:
    setup = await set_up(served.url)
    good, unknown = f"DL-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    today = TODAY.isoformat()
    # The good delivery names the person by the NGO's own reference; the others by their id.
    rows = [
        (good, setup.enrolled_as, "", "psychological", "800000", today),
        ("DL-stranger", "", setup.stranger, "psychological", "100000", today),
        ("DL-unknown", "", unknown, "psychological", "100000", today),
        ("DL-withdrawn", "", setup.withdrawn, "psychological", "100000", today),
        ("DL-not-funded", "", setup.enrolled, "medical", "100000", today),
    ]
    deliveries = tmp_path / "deliveries.csv"
    with deliveries.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["external_id", "person_external_id", "victim_id", "type", "amount_vnd", "delivered_on"]
        )
        writer.writerows(rows)
    token = client_token(ServiceSettings(), CLIENT)

    done = await run_example(
        "--base-url", served.url, "--token", token, "--program", setup.program_id,
        str(deliveries), "--report", "report.xlsx", cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode == 1, done.stderr  # some items were rejected
    assert "HTTP 207: created 1, duplicate 0, conflict 0, rejected 4" in done.stdout, done.stdout
    (created,) = lines_of(done.stdout, "created")
    assert good in created
    rejected = "\n".join(lines_of(done.stdout, "rejected"))
    # Someone who never consented and an id that names nobody get the same answer: an NGO
    # cannot probe for people.
    assert "DL-stranger  victim_id: not enrolled in this program" in rejected
    assert "DL-unknown  victim_id: not enrolled in this program" in rejected
    assert "DL-withdrawn  victim_id: consent to share with this organisation withdrawn" in rejected
    assert "DL-not-funded  type: not a support type of this program" in rejected
    assert "total: created 1, duplicate 0, corrected 0, conflict 0, rejected 4" in done.stdout

    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        supports = (await read(client, setup.enrolled))["supports"]
        assert [(s["type"], s["amount_vnd"], s["program_id"]) for s in supports] == [
            ("psychological", 800_000, setup.program_id)
        ]
        for vid in (setup.stranger, setup.withdrawn):
            assert (await read(client, vid))["supports"] == []

    # The donor report, in Vietnamese: the program above the table, the totals below it.
    sheet = load_workbook(tmp_path / "report.xlsx").active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[2][:2] == ["Chương trình", "Reintegration (synthetic)"]
    assert values[3][:2] == ["Tổ chức thực hiện", ORG]
    assert ["Tổng cộng", None, 1, 1, 800_000] in values

    # The same delivery again, as JSON and by the person's id: a duplicate, nothing written twice.
    again = tmp_path / "again.json"
    first = {**dict(zip(_FIELDS, _typed(rows[0]), strict=True)), "victim_id": setup.enrolled}
    del first["person_external_id"]
    again.write_text(json.dumps({"items": [first]}))
    sent = ("--base-url", served.url, "--token", token, "--program", setup.program_id)
    done = await run_example(*sent, str(again), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "HTTP 207: created 0, duplicate 1, conflict 0, rejected 0" in done.stdout
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        assert len((await read(client, setup.enrolled))["supports"]) == 1

    # A corrected amount: a conflict naming it, then corrected with --correct; the report follows.
    corrected = tmp_path / "corrected.json"
    corrected.write_text(json.dumps([{**first, "amount_vnd": 850_000}]))
    done = await run_example(*sent, str(corrected), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{good}  amount_vnd: differs from the delivery recorded" in done.stdout
    done = await run_example(*sent, str(corrected), "--correct", "--report", "r.json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"corrected {good}  version 2" in done.stdout
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["totals"] == {"deliveries": 1, "people": 1, "amount_vnd": 850_000}


_FIELDS = ("external_id", "person_external_id", "victim_id", "type", "amount_vnd", "delivered_on")


def _typed(row: tuple[str, ...]) -> tuple[Any, ...]:
    return (*row[:4], int(row[4]), row[5])


@pytest.fixture
async def token_endpoint() -> AsyncIterator[Served]:
    """A stand-in for Keycloak's token endpoint: the client credentials grant of the realm's
    NGO client, answered with the token ``ctip token --client`` mints."""
    app = FastAPI()

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/realms/ctip/protocol/openid-connect/token")
    async def token(request: Request) -> JSONResponse:
        basic = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {basic}":
            return JSONResponse({"error": "unauthorized_client"}, status_code=401)
        form = parse_qs((await request.body()).decode())
        if form.get("grant_type") != ["client_credentials"]:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        access = client_token(ServiceSettings(), CLIENT)
        return JSONResponse({"access_token": access, "expires_in": 300, "token_type": "Bearer"})

    server = Served("keycloak-stand-in", app, _listening_socket())
    try:
        await server.start()
        yield server
    finally:
        await server.stop()


async def test_the_example_gets_its_token_by_client_credentials(
    served: Served, token_endpoint: Served, tmp_path: Path
) -> None:
    setup = await set_up(served.url)
    token_url = f"{token_endpoint.url}/realms/ctip/protocol/openid-connect/token"
    args = [
        *("--base-url", served.url, "--program", setup.program_id, "--token-url", token_url),
        *("--client-id", CLIENT, "--report", "report.json"),
    ]

    done = await run_example(*args, cwd=tmp_path, env={"NGO_CLIENT_SECRET": SECRET})
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert (report["program_id"], report["org"]) == (setup.program_id, ORG)

    done = await run_example(*args, cwd=tmp_path, env={"NGO_CLIENT_SECRET": "wrong"})
    assert done.returncode == 2
    assert "token endpoint answered 401" in done.stderr


def test_the_page_names_the_example_the_client_and_the_endpoints() -> None:
    page = DOC.read_text(encoding="utf-8")
    for needle in (
        "examples/ngo/deliveries.py",
        f"ctip token --client {CLIENT}",
        "grant_type=client_credentials",
        "/protocol/openid-connect/token",
        "/deliveries:batch",
        "GET {base}/v1/programs",
        "person_external_id",
        "`conflict`",
        "PUT {base}/v1/programs/{program_id}/deliveries/{external_id}",
        "If-Match",
        "?lang=en",
        "/report?format=xlsx",
        "207",
        "share_with_ngo",
    ):
        assert needle in page, needle
