"""``BodyLimitMiddleware`` around a bare FastAPI app with a small limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from libs.common.app import BodyLimitMiddleware
from libs.common.errors import PROBLEM_JSON, install_error_handlers

LIMIT = 64


class Note(BaseModel):
    text: str


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    @app.post("/notes")
    async def notes(note: Note) -> dict[str, int]:
        return {"length": len(note.text)}

    app.add_middleware(BodyLimitMiddleware, max_bytes=LIMIT)
    return TestClient(app)


def _chunks(total: int, size: int = 16) -> Iterator[bytes]:
    for start in range(0, total, size):
        yield b"x" * min(size, total - start)


def _json_chunks(text_length: int) -> Iterator[bytes]:
    yield b'{"text": "'
    yield from _chunks(text_length)
    yield b'"}'


def test_body_over_the_limit_is_413_problem_json(client: TestClient) -> None:
    response = client.post("/raw", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == "https://ctip.gov.vn/problems/payload-too-large"
    assert body["status"] == 413
    assert body["instance"] == "/raw"


@pytest.mark.parametrize("size", [0, 1, LIMIT])
def test_body_within_the_limit_passes(client: TestClient, size: int) -> None:
    response = client.post("/raw", content=b"x" * size)
    assert response.status_code == 200
    assert response.json() == {"received": size}


def test_streamed_body_over_the_limit_is_413_without_content_length(client: TestClient) -> None:
    response = client.post("/raw", content=_chunks(LIMIT * 4))
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON


def test_streamed_body_within_the_limit_passes(client: TestClient) -> None:
    response = client.post("/raw", content=_chunks(LIMIT))
    assert response.json() == {"received": LIMIT}


def test_json_body_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/notes", json={"text": "x" * LIMIT})
    assert response.status_code == 413


def test_streamed_json_body_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post(
        "/notes", content=_json_chunks(LIMIT * 4), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
