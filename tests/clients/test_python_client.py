"""A Python developer's view: a client generated with openapi-python-client from intake's
document files a tip anonymously, looks its receipt up and pages through tips as an officer,
against the real intake (PostgreSQL and Kafka of the integration fixtures)."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from libs.common.settings import ServiceSettings
from tests.support import bearer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def intake_client(
    openapi_documents: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModuleType]:
    generator = shutil.which("openapi-python-client") or str(
        Path(sys.executable).parent / "openapi-python-client"
    )
    folder = tmp_path_factory.mktemp("python-client")
    done = subprocess.run(
        [
            generator,
            "generate",
            "--path",
            str(openapi_documents["intake"]),
            "--output-path",
            str(folder / "intake_client"),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("intake_client")
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m.split(".")[0] == "intake_client"]:
            del sys.modules[name]


def module(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


async def test_a_generated_python_client_files_looks_up_and_pages(
    intake_client: ModuleType, intake: httpx.AsyncClient
) -> None:
    client = intake_client.Client(base_url=str(intake.base_url))
    client.set_async_httpx_client(intake)
    create_tip = module(intake_client, "api.tips.create_tip")
    list_tips = module(intake_client, "api.tips.list_tips")
    look_up = module(intake_client, "api.receipts.look_up_receipt")
    models = module(intake_client, "models")

    body = models.TipCreate.from_dict(
        {
            "channel": "web",
            "description": "Tin báo thử từ một ứng dụng Python sinh từ OpenAPI.",
            "incident_ward_code": "00004",
            "exploitation_types": ["forced_labour"],
        }
    )
    # an anonymous filing carries a random key (UUID v4): it guards the replayed receipt code
    created = await create_tip.asyncio(client=client, body=body, idempotency_key=str(uuid.uuid4()))
    assert isinstance(created, models.TipCreated), created
    receipt = await look_up.asyncio(
        client=client, body=models.ReceiptLookupIn(receipt_code=created.receipt_code)
    )
    assert isinstance(receipt, models.ReceiptView), receipt
    assert receipt.status == created.status

    token = bearer(ServiceSettings(), "intake_officer", "01")["Authorization"].split()[1]
    officer = intake_client.AuthenticatedClient(base_url=str(intake.base_url), token=token)
    officer.set_async_httpx_client(
        httpx.AsyncClient(
            transport=intake._transport,
            base_url=intake.base_url,
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    seen: list[str] = []
    cursor = None
    for _ in range(1000):
        page = await list_tips.asyncio(client=officer, limit=2, cursor=cursor)
        assert isinstance(page, models.PageTipSummary), page
        seen += [str(tip.id) for tip in page.items]
        cursor = page.next_cursor if isinstance(page.next_cursor, str) else None
        if cursor is None:
            break
    assert str(created.id) in seen
    assert len(seen) == len(set(seen)), "a cursor never shows a tip twice"
