"""Issue 13, the platform's findings (libs/common): production checks (Medium 9), tokens without
a valid jurisdiction (Medium 4), idempotency records (Medium 5), and the Lows on validation
errors in logs, the JWKS fetch, the 500 handler and plaintext in encrypted JSON columns.

Every value here is synthetic: invented names, phone numbers and receipt codes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import http.server
import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from aiokafka import ConsumerRecord
from alembic.script import ScriptDirectory
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from jwt.algorithms import RSAAlgorithm
from pydantic import BaseModel, ValidationError
from sqlalchemy import MetaData, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common import cli
from libs.common.app import create_service_app
from libs.common.auth import CurrentPrincipal, JwksKeys, TokenVerifier, issue_dev_token
from libs.common.crypto import (
    BlindIndex,
    DecryptionError,
    EncryptedJSON,
    FieldCipher,
    encrypt_plaintext_json_rows,
)
from libs.common.db import Database, DbSession
from libs.common.errors import Unauthorized, install_error_handlers
from libs.common.events import CloudEvent, event_type
from libs.common.idempotency import IdempotencyKeyHeader
from libs.common.inbox import EventConsumer, inbox_table
from libs.common.migrations import alembic_config
from libs.common.observability import configure_logging, describe_error, redacted_traceback
from libs.common.settings import (
    DEV_AUDIT_KEY,
    DEV_FIELD_KEY,
    DEV_INDEX_KEY,
    DEV_JWT_SECRET,
    ServiceSettings,
)
from libs.contracts.intake import TipPersonData
from tests.integration.interagency.conftest import (  # noqa: F401  (fixtures)
    Register,
    admin,
    ia_settings,
    interagency,
    receiver,
    register,
)
from tests.integration.interagency.support import Receiver, forget_partner, fresh_partner_code
from tests.support import running

pytestmark = pytest.mark.security

REAL_FIELD_KEYS = f"prod1:{base64.b64encode(bytes(range(32))).decode()}"
REAL_INDEX_KEY = base64.b64encode(bytes(range(32, 64))).decode()
REAL_AUDIT_KEY = base64.b64encode(bytes(range(64, 96))).decode()
JWKS_URL = "https://idp.example/realms/ctip/protocol/openid-connect/certs"
DEV_FIELD_BYTES = base64.b64decode(DEV_FIELD_KEY.split(":", 1)[1])


def _production(**overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "environment": "production",
        "jwt_secret": "a-real-production-secret-from-the-vault",
        "field_keys": REAL_FIELD_KEYS,
        "blind_index_key": REAL_INDEX_KEY,
        "audit_key": REAL_AUDIT_KEY,
        "jwt_jwks_url": JWKS_URL,
        "jwt_audience": "ctip",
        "jwt_issuer": "https://idp.example/realms/ctip",
    }
    values.update(overrides)
    return ServiceSettings(**values)


@pytest.fixture
def no_ctip_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.upper().startswith("CTIP_"):
            monkeypatch.delenv(name)
    return monkeypatch


# Medium 9: production checks fail open -----------------------------------------------------------


@pytest.mark.parametrize("environment", ["prod", "Production", "staging", "PRODUCTION", ""])
def test_an_environment_other_than_development_test_or_production_refuses_to_start(
    environment: str,
) -> None:
    with pytest.raises(ValidationError, match="'development', 'test' or 'production'"):
        ServiceSettings(environment=environment)


def test_real_production_settings_pass_the_check() -> None:
    _production().check_production()


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param({"audit_key": DEV_AUDIT_KEY}, "audit_key", id="dev-audit-key"),
        pytest.param(
            {"field_keys": f"{REAL_FIELD_KEYS},old:{DEV_FIELD_KEY.split(':', 1)[1]}"},
            "field_keys",
            id="dev-field-key-under-another-kid",
        ),
        pytest.param(
            {
                "field_keys": f"prod2:{DEV_FIELD_KEY.split(':', 1)[1][:20]}\n"
                f"{DEV_FIELD_KEY.split(':', 1)[1][20:]}"
            },
            "field_keys",
            id="dev-field-key-spelled-with-a-line-break",
        ),
        pytest.param(
            {"blind_index_key": f" {DEV_INDEX_KEY[:16]}\n{DEV_INDEX_KEY[16:]} "},
            "blind_index_key",
            id="dev-index-key-spelled-with-whitespace",
        ),
        pytest.param(
            {"blind_index_key": base64.b64encode(DEV_FIELD_BYTES).decode()},
            "blind_index_key",
            id="dev-field-key-reused-as-index-key",
        ),
        pytest.param(
            {"audit_key": DEV_INDEX_KEY}, "audit_key", id="dev-index-key-reused-as-audit-key"
        ),
        pytest.param({"jwt_secret": f"  {DEV_JWT_SECRET}\n"}, "jwt_secret", id="dev-jwt-padded"),
        pytest.param({"jwt_audience": None}, "jwt_audience", id="no-audience"),
        pytest.param({"jwt_issuer": None}, "jwt_issuer", id="no-issuer"),
        pytest.param({"jwt_issuer": " "}, "jwt_issuer", id="blank-issuer"),
    ],
)
def test_production_refuses_development_keys_however_spelled_and_a_missing_audience_or_issuer(
    overrides: dict[str, Any], reason: str
) -> None:
    with pytest.raises(RuntimeError, match=reason):
        _production(**overrides).check_production()


def test_migrate_runs_the_production_check_before_touching_the_database(
    no_ctip_environment: pytest.MonkeyPatch,
) -> None:
    no_ctip_environment.setenv("CTIP_ENVIRONMENT", "production")
    with pytest.raises(RuntimeError, match="development key"):
        cli.main(["migrate", "--database-url", "postgresql+asyncpg://nobody@127.0.0.1:9/none"])


def test_an_api_or_worker_refuses_to_start_on_a_development_audit_key() -> None:
    """``ctip serve`` and ``ctip worker`` both build the app through ``create_service_app``."""
    from services.outreach.app import create_app
    from services.outreach.settings import OutreachSettings

    settings = OutreachSettings(**_production().model_dump() | {"audit_key": DEV_AUDIT_KEY})
    with pytest.raises(RuntimeError, match="audit_key"):
        create_app(settings)


# Medium 4: a token whose jurisdiction holds no valid code -----------------------------------------


def _token(**claims: Any) -> str:
    body: dict[str, Any] = {"sub": "u-synthetic", "exp": int(time.time()) + 600, **claims}
    return jwt.encode(body, DEV_JWT_SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "jurisdiction",
    [
        pytest.param(None, id="missing"),
        pytest.param([], id="empty-list"),
        pytest.param("", id="empty-string"),
        pytest.param(["99"], id="unknown-province"),
        pytest.param(["01", "zz"], id="valid-mixed-with-unknown"),
        pytest.param(["01", 1], id="valid-mixed-with-a-number"),
        pytest.param([["01"]], id="nested-list"),
    ],
)
@pytest.mark.parametrize("role", ["intake_officer", "investigator", "social_worker", "supervisor"])
def test_a_scoped_role_without_a_valid_jurisdiction_is_refused(
    role: str, jurisdiction: Any
) -> None:
    claims: dict[str, Any] = {"roles": [role]}
    if jurisdiction is not None:
        claims["jurisdiction"] = jurisdiction
    with pytest.raises(Unauthorized, match="jurisdiction"):
        TokenVerifier(ServiceSettings()).verify(_token(**claims))


@pytest.mark.parametrize("role", ["admin", "auditor", "ngo", "supervisor"])
def test_an_unknown_code_is_refused_for_every_role(role: str) -> None:
    token = _token(roles=[role], jurisdiction=["01", "123456"])
    with pytest.raises(Unauthorized, match="jurisdiction"):
        TokenVerifier(ServiceSettings()).verify(token)


@pytest.mark.parametrize("role", ["admin", "auditor", "ngo"])
def test_national_roles_need_no_jurisdiction(role: str) -> None:
    principal = TokenVerifier(ServiceSettings()).verify(_token(roles=[role], org="ngo-synthetic"))
    assert principal.roles == frozenset({role})
    assert principal.jurisdiction == ()


def test_a_scoped_token_keeps_its_valid_codes() -> None:
    token = issue_dev_token(ServiceSettings(), roles=["investigator"], jurisdiction=["01", "00256"])
    assert TokenVerifier(ServiceSettings()).verify(token).jurisdiction == ("01", "00256")


# Medium 5: idempotency records leak and never die ------------------------------------------------

RECEIPT_CODE = "RC7Q-4K2M-9XWD-3HPA"  # synthetic, in the shape of a receipt code
SECRET_SHOWN_ONCE = "whsec_c3ludGhldGljLXNlY3JldC1zaG93bi1vbmNl"  # synthetic


class _Created(BaseModel):
    id: str
    secret: str | None = None


def _idempotent_app(settings: Any, calls: list[str]) -> FastAPI:
    """intake's platform tables behind two routes of the kind the finding is about: a code in the
    path and the body, and a response with a secret shown once."""
    from libs.common.platform import platform_of
    from services.intake.models import metadata

    platform = platform_of(metadata)

    router = APIRouter()

    @router.post("/v1/receipts/{code}/messages", status_code=201)
    async def add_message(
        code: str,
        body: dict[str, Any],
        request: Request,
        session: DbSession,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> JSONResponse:
        async def create() -> _Created:
            calls.append(code)
            return _Created(id=str(uuid.uuid4()))

        return await platform.idempotency.run(session, request, idempotency_key, None, create)

    @router.post("/v1/secrets", status_code=201)
    async def new_secret(
        request: Request, session: DbSession, idempotency_key: IdempotencyKeyHeader = None
    ) -> JSONResponse:
        async def create() -> _Created:
            calls.append("secret")
            return _Created(id=str(uuid.uuid4()), secret=SECRET_SHOWN_ONCE)

        return await platform.idempotency.run(
            session, request, idempotency_key, "admin-synthetic", create, replayable=False
        )

    return create_service_app(
        settings=settings,
        platform=platform,
        routers=[router],
        title="idempotency under test",
        description="",
    )


@pytest.fixture
def idempotency_settings(settings_for: Callable[..., Any]) -> Any:
    from services.intake.settings import IntakeSettings

    return settings_for(IntakeSettings, run_relay=False, run_consumers=False)


async def _stored(db: AsyncEngine, key_digest: str) -> list[dict[str, Any]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text("SELECT * FROM intake.idempotency_keys WHERE key = :k"), {"k": key_digest}
        )
        return [dict(r._mapping) for r in rows]


async def test_an_idempotency_row_holds_no_code_and_its_scope_is_an_hmac(
    idempotency_settings: Any, db: AsyncEngine
) -> None:
    calls: list[str] = []
    key = f"key-{uuid.uuid4()}"
    path = f"/v1/receipts/{RECEIPT_CODE}/messages"
    body = {"code": RECEIPT_CODE, "text": "synthetic message"}
    async with running(_idempotent_app(idempotency_settings, calls)) as client:
        first = await client.post(path, json=body, headers={"Idempotency-Key": key})
        again = await client.post(path, json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert calls == [RECEIPT_CODE]

    index = BlindIndex.from_b64(idempotency_settings.blind_index_key.get_secret_value())
    (row,) = await _stored(db, index.digest("idempotency.key", key))
    assert row["scope"] == index.digest("idempotency.scope", f"POST {path} anonymous")
    unkeyed = hashlib.sha256(f"POST {path} anonymous".encode()).hexdigest()
    assert row["scope"] != unkeyed
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    assert row["request_hash"] != hashlib.sha256(canonical.encode()).hexdigest()
    assert row["key"] != key
    for column, value in row.items():
        assert RECEIPT_CODE not in str(value), column
        assert key not in str(value), column


async def test_a_replay_after_the_retention_period_is_a_fresh_request(
    idempotency_settings: Any, db: AsyncEngine
) -> None:
    calls: list[str] = []
    key = f"key-{uuid.uuid4()}"
    path = f"/v1/receipts/{RECEIPT_CODE}/messages"
    index = BlindIndex.from_b64(idempotency_settings.blind_index_key.get_secret_value())
    async with running(_idempotent_app(idempotency_settings, calls)) as client:
        first = await client.post(path, json={}, headers={"Idempotency-Key": key})
        async with db.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE intake.idempotency_keys SET created_at = now() - interval '25 hours'"
                    " WHERE key = :k"
                ),
                {"k": index.digest("idempotency.key", key)},
            )
        later = await client.post(path, json={}, headers={"Idempotency-Key": key})
    assert first.status_code == later.status_code == 201
    assert later.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in later.headers
    assert calls == [RECEIPT_CODE, RECEIPT_CODE]
    (row,) = await _stored(db, index.digest("idempotency.key", key))
    assert row["created_at"] > datetime.now(UTC) - timedelta(hours=1)


async def test_the_worker_purges_rows_older_than_the_retention_in_batches(
    database_url: str, db: AsyncEngine
) -> None:
    from libs.common.idempotency import IdempotencyPurger
    from libs.common.platform import platform_of
    from services.intake.models import metadata

    platform = platform_of(metadata)

    marker = uuid.uuid4().hex[:8]
    async with db.begin() as conn:
        for n, age in enumerate([30, 26, 25, 23, 1]):
            await conn.execute(
                text(
                    "INSERT INTO intake.idempotency_keys"
                    " (scope, key, request_hash, status_code, response, created_at)"
                    " VALUES (:s, :k, 'h', 201, NULL, now() - make_interval(hours => :age))"
                ),
                {"s": f"purge-{marker}", "k": f"{n}", "age": age},
            )
    database = Database(database_url)
    try:
        purger = IdempotencyPurger(database, platform.idempotency.table, 24, batch_size=2)
        await purger.purge()
    finally:
        await database.dispose()
    async with db.connect() as conn:
        left = (
            await conn.execute(
                text("SELECT key FROM intake.idempotency_keys WHERE scope = :s ORDER BY key"),
                {"s": f"purge-{marker}"},
            )
        ).scalars()
        assert list(left) == ["3", "4"]
        indexed = (
            await conn.execute(
                text(
                    "SELECT indexdef FROM pg_indexes WHERE schemaname = 'intake'"
                    " AND tablename = 'idempotency_keys' AND indexdef LIKE '%(created_at)%'"
                )
            )
        ).scalars()
        assert list(indexed), "the purge's DELETE needs an index on created_at"


async def test_a_secret_shown_once_is_never_stored_and_its_replay_is_a_409(
    idempotency_settings: Any, db: AsyncEngine
) -> None:
    calls: list[str] = []
    key = f"key-{uuid.uuid4()}"
    async with running(_idempotent_app(idempotency_settings, calls)) as client:
        first = await client.post("/v1/secrets", headers={"Idempotency-Key": key})
        again = await client.post("/v1/secrets", headers={"Idempotency-Key": key})
    assert first.status_code == 201
    assert first.json()["secret"] == SECRET_SHOWN_ONCE
    assert again.status_code == 409
    assert "secret shown once" in again.json()["detail"]
    assert SECRET_SHOWN_ONCE not in again.text
    assert calls == ["secret"]
    index = BlindIndex.from_b64(idempotency_settings.blind_index_key.get_secret_value())
    (row,) = await _stored(db, index.digest("idempotency.key", key))
    assert row["response"] is None


async def test_a_partner_registration_replay_is_409_and_its_secrets_are_not_stored(
    interagency: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    ia_settings: Any,
    db: AsyncEngine,
) -> None:
    code = fresh_partner_code()
    body = {"code": code, "name": "Synthetic partner", "webhook_url": receiver.url(code)}
    key = f"register-{uuid.uuid4()}"
    try:
        first = await interagency.post(
            "/v1/partners", json=body, headers={**admin, "Idempotency-Key": key}
        )
        again = await interagency.post(
            "/v1/partners", json=body, headers={**admin, "Idempotency-Key": key}
        )
        assert first.status_code == 201, first.text
        assert again.status_code == 409
        assert "secret shown once" in again.json()["detail"]
        secrets = [first.json()["outbound_secret"], first.json()["inbound_secret"]]
        assert not any(s in again.text for s in secrets)
        index = BlindIndex.from_b64(ia_settings.blind_index_key.get_secret_value())
        async with db.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT response FROM interagency.idempotency_keys WHERE key = :k"),
                    {"k": index.digest("idempotency.key", key)},
                )
            ).one()
        assert row.response is None
    finally:
        await forget_partner(db, code)


async def test_a_rotated_secret_is_not_replayed_under_the_same_key(
    interagency: httpx.AsyncClient, admin: dict[str, str], register: Register
) -> None:
    partner = await register()
    headers = {**admin, "Idempotency-Key": f"rotate-{uuid.uuid4()}"}
    path = f"/v1/partners/{partner.code}/rotate-secret"
    first = await interagency.post(path, json={"direction": "inbound"}, headers=headers)
    again = await interagency.post(path, json={"direction": "inbound"}, headers=headers)
    assert first.status_code == 200, first.text
    assert again.status_code == 409
    assert "secret shown once" in again.json()["detail"]


# Low: str(ValidationError) carries input values into logs and DLT headers -----------------------

SYNTHETIC_NAME = "Đặng Thị Giảlập"
SYNTHETIC_PHONE = "0987654321"


class _FakeProducer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_and_wait(self, topic: str, **kwargs: Any) -> None:
        self.sent.append({"topic": topic, **kwargs})


def _record(data: dict[str, Any], short_type: str) -> ConsumerRecord[bytes, bytes]:
    event = CloudEvent(
        id=str(uuid.uuid4()),
        source="/ctip/intake",
        type=event_type(short_type),
        subject="s-1",
        data=data,
    )
    value = event.to_json_bytes()
    return ConsumerRecord(
        topic="t.intake.missing_person.v1",
        partition=0,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=b"s-1",
        value=value,
        checksum=None,
        serialized_key_size=4,
        serialized_value_size=len(value),
        headers=[],
    )


def _consumer(short_type: str) -> tuple[EventConsumer, _FakeProducer]:
    async def handler(*args: Any) -> None:
        raise AssertionError("a poison message never reaches its handler")

    settings = ServiceSettings(environment="test", consumer_retry_base_seconds=0.0)
    consumer = EventConsumer(
        None,  # type: ignore[arg-type]  (the poison path never opens a session)
        inbox_table(MetaData(schema="t")),
        settings,
        {short_type: handler},
        lambda session: session,
    )
    producer = _FakeProducer()
    consumer._producer = producer  # type: ignore[assignment]
    return consumer, producer


def _no_person_in(text_: str) -> None:
    assert SYNTHETIC_NAME not in text_
    assert SYNTHETIC_PHONE not in text_


async def test_a_payload_breaking_its_contract_leaves_no_name_or_phone_in_dlt_headers_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    short_type = "intake.missing_person.reported"
    consumer, producer = _consumer(short_type)
    record = _record({"full_name": SYNTHETIC_NAME, "phone": SYNTHETIC_PHONE}, short_type)
    assert await consumer.handle([record]) == ["dead_lettered"]
    (sent,) = producer.sent
    headers = dict(sent["headers"])
    message = headers["dlt-error-message"].decode()
    assert "missing at missing_person_id" in message  # the type and location of each error
    for value in headers.values():
        _no_person_in(value.decode("utf-8", "replace"))
    _no_person_in(caplog.text)


async def test_a_handler_failing_on_validation_logs_and_dead_letters_types_and_locations_only(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    short_type = "synthetic.thing.happened"  # no contract: the handler validates it itself
    consumer, producer = _consumer(short_type)

    async def failing(*args: Any) -> str:
        TipPersonData.model_validate({"role": 7, "full_name": SYNTHETIC_NAME, "phone": 98})
        return "handled"

    monkeypatch.setattr(consumer, "_handle_once", failing)
    record = _record({"full_name": SYNTHETIC_NAME, "phone": SYNTHETIC_PHONE}, short_type)
    assert await consumer.handle([record]) == ["dead_lettered"]
    headers = dict(producer.sent[0]["headers"])
    assert "string_type at role" in headers["dlt-error-message"].decode()
    for value in headers.values():
        _no_person_in(value.decode("utf-8", "replace"))
    assert "handler failed" in caplog.text
    _no_person_in(caplog.text)


async def test_the_relay_logs_a_failure_without_the_events_values(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from libs.common.outbox import Outbox
    from libs.common.relay import OutboxRelay

    caplog.set_level(logging.DEBUG)
    relay = OutboxRelay(
        None,  # type: ignore[arg-type]
        Outbox(MetaData(schema="t"), "t"),
        ServiceSettings(environment="test"),
    )

    async def broken() -> None:
        relay.stop()
        CloudEvent.model_validate({"data": {"full_name": SYNTHETIC_NAME}, "x": SYNTHETIC_PHONE})

    monkeypatch.setattr(relay, "_run_as_leader", broken)
    await relay.run()
    assert "relay error" in caplog.text
    assert "missing at id" in caplog.text
    _no_person_in(caplog.text)


def test_a_database_error_is_told_without_the_statements_parameters() -> None:
    """SQLAlchemy's ``str()`` quotes the parameters of the failed statement."""
    exc = IntegrityError(
        "INSERT INTO t (full_name, phone) VALUES (:n, :p)",
        {"n": SYNTHETIC_NAME, "p": SYNTHETIC_PHONE},
        Exception("duplicate key value violates unique constraint"),
    )
    assert SYNTHETIC_PHONE in str(exc)
    told = describe_error(exc)
    assert told.startswith("IntegrityError")
    _no_person_in(told)
    _no_person_in(redacted_traceback(exc))


@contextlib.contextmanager
def _json_log() -> Iterator[io.StringIO]:
    """The service's own JSON log lines (as ``configure_logging`` set them up), into a buffer;
    the root handlers are put back afterwards."""
    root = logging.getLogger()
    before = list(root.handlers)
    buffer = io.StringIO()
    configure_logging("test", "INFO")
    root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    try:
        yield buffer
    finally:
        root.handlers[:] = before


def test_the_json_log_of_any_logger_tells_a_validation_error_by_type_and_location() -> None:
    """uvicorn logs an exception that reached the server with its own logger: the redaction sits
    on the handler and on ``uvicorn.error``, not only in our call sites."""
    server = logging.getLogger("uvicorn.error")
    server_buffer = io.StringIO()
    server_handler = logging.StreamHandler(server_buffer)  # uvicorn's own, plain-text handler
    with _json_log() as buffer:
        server.addHandler(server_handler)
        try:
            TipPersonData.model_validate({"full_name": SYNTHETIC_NAME, "phone": SYNTHETIC_PHONE})
        except ValidationError as exc:
            logging.getLogger("some.library").exception("failed")
            logging.getLogger("some.library").warning("failed: %s", exc)
            server.error("Exception in ASGI application", exc_info=exc)
        finally:
            server.removeHandler(server_handler)
    out = buffer.getvalue() + server_buffer.getvalue()
    assert out.count("missing at role") >= 3
    assert "missing at role" in server_buffer.getvalue()
    _no_person_in(out)


# Low (from High 1): no 500 handler logs a raw path ----------------------------------------------


async def test_a_500_is_logged_with_method_route_template_status_and_correlation_id_only(
    settings_for: Callable[..., Any],
) -> None:
    from libs.common.platform import platform_of
    from services.outreach.models import metadata

    platform = platform_of(metadata)
    from services.outreach.settings import OutreachSettings

    router = APIRouter()

    @router.get("/v1/things/{thing_id}")
    async def crash(thing_id: str) -> None:
        TipPersonData.model_validate({"full_name": SYNTHETIC_NAME, "phone": SYNTHETIC_PHONE})

    with _json_log() as buffer:
        app = create_service_app(
            settings=settings_for(OutreachSettings, run_relay=False, run_consumers=False),
            platform=platform,
            routers=[router],
            title="500 under test",
            description="",
        )
        logging.getLogger().handlers[0].setStream(buffer)  # type: ignore[attr-defined]
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get(
                f"/v1/things/{RECEIPT_CODE}",
                params={"phone": SYNTHETIC_PHONE},
                headers={"X-Correlation-ID": "cid-synthetic-500"},
            )
    assert response.status_code == 500
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    (logged,) = [line for line in lines if line["message"] == "unhandled error"]
    assert logged["route"] == "/v1/things/{thing_id}"
    assert logged["method"] == "GET"
    assert logged["status"] == 500
    assert logged["correlation_id"] == "cid-synthetic-500"
    assert "missing at role" in logged["error"]
    assert "path" not in logged
    assert RECEIPT_CODE not in buffer.getvalue()
    _no_person_in(buffer.getvalue())


# Low: EncryptedJSON accepts plaintext that starts with `{` ---------------------------------------


def test_an_encrypted_json_column_refuses_a_value_in_clear() -> None:
    column = EncryptedJSON("outreach.outbox.event")
    planted = json.dumps({"data": {"full_name": SYNTHETIC_NAME, "phone": SYNTHETIC_PHONE}})
    with pytest.raises(DecryptionError, match="in clear"):
        column.process_result_value(planted, postgresql.dialect())
    sealed = column.process_bind_param({"ok": True}, postgresql.dialect())
    assert column.process_result_value(sealed, postgresql.dialect()) == {"ok": True}


async def test_rows_in_clear_are_encrypted_in_place_and_read_back_unchanged(
    db: AsyncEngine,
) -> None:
    from libs.common.platform import platform_of
    from services.outreach.models import metadata

    platform = platform_of(metadata)

    table = platform.outbox.table
    event = {"id": str(uuid.uuid4()), "data": {"full_name": SYNTHETIC_NAME}}
    async with db.begin() as conn:
        seq = (
            await conn.execute(
                text(
                    "INSERT INTO outreach.outbox (id, topic, key, type, event, published_at)"
                    " VALUES (:id, 't', 'k', 'synthetic', :event, now()) RETURNING seq"
                ),
                {"id": uuid.uuid4(), "event": json.dumps(event, ensure_ascii=False)},
            )
        ).scalar_one()
        field_cipher = FieldCipher.from_spec(ServiceSettings().field_keys.get_secret_value())
        done = await conn.run_sync(
            lambda sync: encrypt_plaintext_json_rows(
                sync, field_cipher, "outreach", "outbox", "seq", "event", batch_size=1
            )
        )
    assert done >= 1
    async with db.connect() as conn:
        raw = (
            await conn.execute(text("SELECT event FROM outreach.outbox WHERE seq = :s"), {"s": seq})
        ).scalar_one()
        read = (await conn.execute(select(table.c.event).where(table.c.seq == seq))).scalar_one()
    assert raw.startswith("v1.")
    assert SYNTHETIC_NAME not in raw
    assert read == event


@pytest.mark.parametrize(
    "service", ["intake", "casework", "victim_support", "interagency", "outreach"]
)
def test_every_service_history_re_encrypts_its_outbox_rows_in_clear(service: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(service, "postgresql+asyncpg://unused"))
    sources = [
        Path(revision.path).read_text()
        for revision in script.walk_revisions()
        if revision.path is not None
    ]
    assert any(
        "encrypt_plaintext_json_rows" in source and '"outbox"' in source for source in sources
    )


# Low: the JWKS fetch runs on the event loop ------------------------------------------------------


class _Jwks:
    """A local OIDC provider's JWKS endpoint that can go slow or down."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        self.document = {"keys": [{**jwk, "kid": "kid-1", "use": "sig", "alg": "RS256"}]}
        self.mode = "up"
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                if outer.mode == "slow":
                    time.sleep(2.5)
                if outer.mode == "down":
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps(outer.document).encode()
                with contextlib.suppress(OSError):  # a client that gave up has gone
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/certs"

    def token(self, kid: str = "kid-1", **claims: Any) -> str:
        body = {
            "sub": f"u-{uuid.uuid4().hex[:6]}",
            "roles": ["investigator"],
            "jurisdiction": ["01"],
            "exp": int(time.time()) + 600,
            **claims,
        }
        return jwt.encode(body, self.private, algorithm="RS256", headers={"kid": kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider() -> Iterator[_Jwks]:
    jwks = _Jwks()
    yield jwks
    jwks.close()


def _auth_app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.token_verifier = verifier

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"sub": principal.sub}

    return app


async def _get_me(app: FastAPI, token: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get("/me", headers={"Authorization": f"Bearer {token}"})


async def test_a_slow_jwks_endpoint_never_blocks_the_event_loop(provider: _Jwks) -> None:
    provider.mode = "slow"
    app = _auth_app(TokenVerifier(ServiceSettings(jwt_jwks_url=provider.url)))
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not done.is_set():
            await asyncio.sleep(0.02)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    try:
        response = await _get_me(app, provider.token())
    finally:
        done.set()
        await ticking
    assert max(gaps) < 0.5, f"the event loop stalled for {max(gaps):.2f} s"
    assert response.status_code in (200, 401)


async def test_the_fetch_gives_up_after_a_short_timeout(provider: _Jwks) -> None:
    provider.mode = "slow"
    keys = JwksKeys(provider.url, timeout_seconds=0.3)
    app = _auth_app(TokenVerifier(ServiceSettings(jwt_jwks_url=provider.url), jwks=keys))
    started = time.monotonic()
    response = await _get_me(app, provider.token())
    assert time.monotonic() - started < 2.0
    assert response.status_code == 401
    assert "no known signing key" in response.json()["detail"]


async def test_a_jwks_outage_keeps_serving_the_last_good_key_set(provider: _Jwks) -> None:
    keys = JwksKeys(provider.url, min_refresh_seconds=0.0, max_age_seconds=0.0)
    app = _auth_app(TokenVerifier(ServiceSettings(jwt_jwks_url=provider.url), jwks=keys))
    assert (await _get_me(app, provider.token())).status_code == 200
    provider.mode = "down"
    for _ in range(3):  # each a new token, each finding the key set stale: refreshes fail
        assert (await _get_me(app, provider.token())).status_code == 200
        await asyncio.sleep(0.05)
    assert provider.hits >= 2  # it did try again, and kept the old keys when that failed


async def test_unknown_kids_trigger_at_most_one_refresh(provider: _Jwks) -> None:
    keys = JwksKeys(provider.url, min_refresh_seconds=0.5)
    app = _auth_app(TokenVerifier(ServiceSettings(jwt_jwks_url=provider.url), jwks=keys))
    assert (await _get_me(app, provider.token())).status_code == 200
    await asyncio.sleep(0.6)  # past the interval: an unknown kid may now trigger a refresh
    responses = await asyncio.gather(
        *(_get_me(app, provider.token(kid=f"made-up-{n}")) for n in range(20))
    )
    assert {r.status_code for r in responses} == {401}
    assert provider.hits == 2  # the first fetch, then one refresh for all twenty unknown kids
    again = await _get_me(app, provider.token(kid="made-up-again"))
    assert again.status_code == 401
    assert provider.hits == 2  # within the interval: no fetch at all
