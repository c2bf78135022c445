"""docs/integrations/partners.md and examples/partners/ are what a partner province's developer
gets: the worked example's signature is recomputed from the page, ``Signer.java`` (the JDK
alone) signs byte for byte as our library does, the Python and Java senders get their 202 from a
real interagency service (uvicorn on a loopback port, PostgreSQL and Kafka of the local stack),
and the Python receiver accepts what we sign and refuses a tampered body."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from libs.common.webhooks import generate_secret, secret_bytes, sign, signed_headers
from services.interagency.app import create_app
from services.interagency.settings import InteragencySettings
from tests.e2e.conftest import Served, _listening_socket
from tests.integration.interagency.support import free_port
from tests.support import bearer

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs/integrations/partners.md"
EXAMPLES = ROOT / "examples/partners"
SENDER = EXAMPLES / "python/sender.py"
RECEIVER = EXAMPLES / "python/receiver.py"
SIGNER = EXAMPLES / "java/Signer.java"
JAVA = shutil.which("java") or "/usr/bin/java"
PARTNER_CODE = "20"  # Lạng Sơn, as on the page; this session's database is its own


# The page's worked example --------------------------------------------------------------------


@dataclass(frozen=True)
class WorkedExample:
    secret: str
    webhook_id: str
    timestamp: int
    body: bytes
    signed_content: bytes
    hmac_hex: str
    signature: str


def _value(text: str, label: str) -> str:
    found = re.findall(rf"^{re.escape(label)}: (.+)$", text, flags=re.MULTILINE)
    assert len(found) == 1, f"the page gives {label!r} {len(found)} times, not once"
    return str(found[0])


def worked_example() -> WorkedExample:
    """The values of the page's "Worked example" section, as written there."""
    page = DOC.read_text(encoding="utf-8")
    text = page.split("### Worked example\n", 1)[1].split("\n## ", 1)[0]
    return WorkedExample(
        secret=_value(text, "secret"),
        webhook_id=_value(text, "webhook-id"),
        timestamp=int(_value(text, "webhook-timestamp")),
        body=_value(text, "body").encode("utf-8"),
        signed_content=_value(text, "signed content").encode("utf-8"),
        hmac_hex=_value(text, "HMAC-SHA256 (hex)"),
        signature=_value(text, "webhook-signature"),
    )


def test_the_worked_example_is_what_our_library_signs() -> None:
    example = worked_example()
    assert example.signature == sign(
        [example.secret], example.webhook_id, example.timestamp, example.body
    )
    assert example.signed_content == (
        f"{example.webhook_id}.{example.timestamp}.".encode() + example.body
    )
    assert example.signature == "v1," + base64.b64encode(bytes.fromhex(example.hmac_hex)).decode()
    # what the page says about its values holds too
    assert secret_bytes(example.secret) == b"ctip synthetic partner key 2026!"
    assert len(example.body) == 421
    event = json.loads(example.body)
    assert event["source"] == f"/partners/{PARTNER_CODE}"
    assert event["data"]["full_name"] == "Lò Thị Mai"


# Signer.java against our library ------------------------------------------------------------


def java(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [JAVA, str(SIGNER), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=SIGNER.parent,
    )


@pytest.fixture(scope="module")
def body_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[[bytes], Path]:
    folder = tmp_path_factory.mktemp("bodies")

    def write(body: bytes) -> Path:
        path = folder / f"{uuid.uuid4().hex}.json"
        path.write_bytes(body)
        return path

    return write


def test_java_signs_the_worked_example_as_our_library_does(
    body_file: Callable[[bytes], Path],
) -> None:
    example = worked_example()
    path = body_file(example.body)
    done = java("sign", example.secret, example.webhook_id, str(example.timestamp), str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == example.signature


def test_java_signs_and_verifies_like_our_library(body_file: Callable[[bytes], Path]) -> None:
    """Another secret, id and body (non-ASCII, several lines): the same bytes are signed."""
    secret = generate_secret()
    webhook_id = f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time())
    body = json.dumps(
        {"data": {"full_name": "Hà Văn Đức", "found_place": "Cửa khẩu Hữu Nghị (synthetic)"}},
        ensure_ascii=False,
        indent=2,
    ).encode("utf-8")
    path = body_file(body)
    ours = sign([secret], webhook_id, timestamp, body)
    done = java("sign", secret, webhook_id, str(timestamp), str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ours

    # its verifier accepts our signature (also as the second entry, as during a rotation) ...
    rotation = sign([generate_secret(), secret], webhook_id, timestamp, body)
    for header in (ours, rotation):
        done = java("verify", secret, webhook_id, str(timestamp), header, str(path))
        assert (done.returncode, done.stdout.strip()) == (0, "valid"), done.stderr
    # ... and refuses a tampered body, another id, and a stale timestamp
    tampered = body_file(body.replace("Đức".encode(), b"Duc"))
    refusals = [
        ("verify", secret, webhook_id, str(timestamp), ours, str(tampered)),
        ("verify", secret, webhook_id + "x", str(timestamp), ours, str(path)),
        (
            "verify",
            secret,
            webhook_id,
            str(timestamp - 600),
            sign([secret], webhook_id, timestamp - 600, body),
            str(path),
        ),
    ]
    for args in refusals:
        done = java(*args)
        assert (done.returncode, done.stdout.strip()) == (1, "invalid"), args[2:4]


# The senders against a real interagency -------------------------------------------------------


@dataclass(frozen=True)
class Partner:
    base_url: str
    code: str
    inbound_secret: str
    outbound_secret: str


@pytest.fixture(scope="module")
async def served_interagency(settings_for: Callable[..., Any]) -> AsyncIterator[Served]:
    """The interagency service as a real HTTP server: its relay on, no delivery worker and no
    consumer (nothing here is sent out or matched)."""
    settings: InteragencySettings = settings_for(
        InteragencySettings, run_delivery_worker=False, run_consumers=False
    )
    served = Served("interagency", create_app(settings), _listening_socket())
    await served.start()
    try:
        yield served
    finally:
        await served.stop()


@pytest.fixture(scope="module")
async def partner(
    served_interagency: Served, settings_for: Callable[..., Any]
) -> AsyncIterator[Partner]:
    """Province 20 registered as the page says: an admin's POST /v1/partners."""
    admin = bearer(settings_for(InteragencySettings), "admin")
    async with httpx.AsyncClient(base_url=served_interagency.url, timeout=10) as client:
        response = await client.post(
            "/v1/partners",
            headers={**admin, "Idempotency-Key": f"register-{uuid.uuid4()}"},
            json={
                "code": PARTNER_CODE,
                "name": "Lạng Sơn (synthetic partner)",
                "webhook_url": "http://127.0.0.1:9/hook",
                "alert_types": ["missing_person", "suspect_alert"],
                "border_countries": ["CN"],
            },
        )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["inbound_secret"].startswith("whsec_")
    assert created["outbound_secret"].startswith("whsec_")
    yield Partner(
        served_interagency.url,
        PARTNER_CODE,
        created["inbound_secret"],
        created["outbound_secret"],
    )


async def run(*command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A command in a thread: the server under test runs in this event loop."""
    return await asyncio.to_thread(
        subprocess.run, list(command), capture_output=True, text=True, timeout=timeout, check=False
    )


def answer(done: subprocess.CompletedProcess[str]) -> tuple[int, dict[str, Any]]:
    """``<status> <json>`` as the examples print it."""
    status, _, body = done.stdout.strip().partition(" ")
    return int(status), json.loads(body)


async def test_the_python_sender_gets_202_and_a_repeat_gets_the_same_answer(
    partner: Partner,
) -> None:
    webhook_id = f"msg_{uuid.uuid4().hex}"
    command = [
        sys.executable,
        str(SENDER),
        "--base-url",
        partner.base_url,
        "--code",
        partner.code,
        "--secret",
        partner.inbound_secret,
        "--webhook-id",
        webhook_id,
    ]
    first = await run(*command)
    assert first.returncode == 0, first.stdout + first.stderr
    status, body = answer(first)
    assert status == 202
    assert body.keys() == {"alert_id"}
    uuid.UUID(body["alert_id"])

    again = await run(*command)
    assert again.returncode == 0, again.stdout + again.stderr
    assert answer(again) == (202, body)


async def test_the_python_sender_with_another_secret_gets_the_401(partner: Partner) -> None:
    for code, secret in ((partner.code, generate_secret()), ("24", partner.inbound_secret)):
        done = await run(
            sys.executable,
            str(SENDER),
            "--base-url",
            partner.base_url,
            "--code",
            code,
            "--secret",
            secret,
            "--attempts",
            "1",
        )
        assert done.returncode == 1
        status, problem = answer(done)
        assert status == 401
        assert problem["detail"].startswith("invalid webhook signature")


async def test_the_java_sender_gets_202(partner: Partner) -> None:
    done = await run(
        JAVA, str(SIGNER), "send", partner.base_url, partner.code, partner.inbound_secret
    )
    assert done.returncode == 0, done.stdout + done.stderr
    status, body = answer(done)
    assert status == 202
    assert body.keys() == {"alert_id"}


# The Python receiver --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, str]]:
    """The receiver example on a free port, with an outbound secret of ours."""
    secret = generate_secret()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(RECEIVER), "--port", str(port), "--secret", secret],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on"), line + (
            process.stderr.read() if process.stderr else ""
        )
        yield f"http://127.0.0.1:{port}/ctip", secret
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_the_python_receiver_accepts_what_we_sign_and_refuses_a_tampered_body(
    receiver: tuple[str, str],
) -> None:
    url, secret = receiver
    body = json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "/ctip/interagency",
            "type": "vn.ctip.interagency.alert.v1",
            "time": "2026-11-24T03:00:00Z",
            "datacontenttype": "application/json",
            "data": {"alert_type": "suspect_alert", "full_name": "Trần Văn Hùng (synthetic)"},
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    webhook_id = str(uuid.uuid4())
    headers = signed_headers([secret], webhook_id, int(time.time()), body)
    headers["content-type"] = "application/cloudevents+json; charset=UTF-8"
    with httpx.Client(timeout=10) as client:
        assert client.post(url, content=body, headers=headers).status_code == 204
        # a retry of the same message (same webhook-id, fresh timestamp) is a 2xx again
        retry = signed_headers([secret], webhook_id, int(time.time()), body)
        assert client.post(url, content=body, headers=retry).status_code == 204

        tampered = body.replace("Hùng".encode(), b"Hung")
        assert client.post(url, content=tampered, headers=headers).status_code == 401
        stale = signed_headers([secret], webhook_id, int(time.time()) - 600, body)
        assert client.post(url, content=body, headers=stale).status_code == 401
        other = signed_headers(
            [generate_secret()],
            webhook_id,
            int(time.time()),
            body,
        )
        assert client.post(url, content=body, headers=other).status_code == 401
        malformed = {**headers, "webhook-signature": "v1"}
        assert client.post(url, content=body, headers=malformed).status_code == 401
