"""What one ``POST /v1/tips`` filing costs in CPU, piece by piece: ``post_tips.work_costs`` of
``bench.intake``.

Every piece runs in this process, one filing after another, over the bench's tip bodies, and is
timed with ``time.process_time`` (CPU, not wall clock: other work on the machine does not count;
the pieces inside ``file_tip`` are timed where they run, see ``_clocked``):

* the body: ``json.loads`` and ``TipCreate`` validation, as FastAPI does it;
* ``tips.file_tip`` without I/O (its statement handed to a session that only keeps it), and
  inside it: the persons and their blind-index rows, the HMACs alone, the receipt code and its
  hash, the outbox event, the watches of the tip's clocks, the statement's parameters (bind
  processors, AES-GCM of the personal fields) and the rest (the tip row, ids, the answer);
* the answer: ``TipCreated.model_dump_json``;
* the filing's one statement sent to PostgreSQL three ways, each with rows of its own (the
  client's CPU only; PostgreSQL's work is not in it): in a SQLAlchemy session (BEGIN,
  statement, COMMIT, as the Idempotency-Key path does), through ``Database.one_statement``
  (autocommit, as a filing without a key does) and with a bare asyncpg pool (the same-work
  reference's way).

The rows written go at the end (``TRUNCATE`` of the filing's tables, as after the same-work run).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import asyncpg

from libs.common.bulk import InsertTogether
from libs.common.context import Context
from libs.common.crypto import BlindIndex, FieldCipher, configure_cipher
from libs.common.db import Database, asyncpg_dsn
from libs.common.outbox import Outbox
from libs.common.platform import platform_of
from services.intake import receipts, tip_clocks, tip_persons, tips
from services.intake.models import metadata
from services.intake.schemas import TipCreate
from services.intake.settings import IntakeSettings

TRUNCATE = (
    "TRUNCATE intake.tips, intake.tip_persons, intake.person_index, intake.receipts, "
    "intake.outbox, intake.deadline_watches CASCADE"
)


class _Kept:
    """A session that keeps the one statement it is given instead of sending it."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Sequence[Any]]] = []

    async def connection(self) -> _Kept:
        return self

    async def exec_driver_sql(self, sql: str, parameters: Sequence[Any]) -> None:
        self.statements.append((sql, parameters))


def _us_per(started: float, n: int) -> float:
    return round((time.process_time() - started) * 1e6 / n, 1)


def _each(items: Sequence[Any], work: Callable[[Any], Any]) -> float:
    started = time.process_time()
    for item in items:
        work(item)
    return _us_per(started, len(items))


async def _each_async(items: Sequence[Any], work: Callable[[Any], Awaitable[Any]]) -> float:
    started = time.process_time()
    for item in items:
        await work(item)
    return _us_per(started, len(items))


async def measure(url: str, bodies: Sequence[bytes], filings: int = 1000) -> dict[str, Any]:
    """CPU per filing of each piece, in µs (see the module's docstring); ``url`` is a migrated
    database whose intake tables may be emptied afterwards."""
    settings = IntakeSettings(database_url=url)
    configure_cipher(FieldCipher.from_spec(settings.field_keys.get_secret_value()))
    index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    platform = platform_of(metadata)
    raw = [bodies[i % len(bodies)] for i in range(filings)]
    kept = _Kept()

    def context() -> Context[IntakeSettings]:
        return Context(kept, None, settings, platform, index, anonymous_sub="anonymous")  # type: ignore[arg-type]

    costs: dict[str, float] = {}
    # Warm every path once (imports, caches, the statement's compilation).
    data = [TipCreate.model_validate(json.loads(b)) for b in raw]
    await tips.file_tip(context(), data[0])
    costs["body: json.loads + TipCreate validation"] = _each(
        raw, lambda b: TipCreate.model_validate(json.loads(b))
    )

    answers = [await tips.file_tip(context(), tip) for tip in data]
    # The filings again, each piece timed where it runs: once for the outer pieces (and the
    # whole), once for the ones inside them (HMACs, AES-GCM), so that no clock read lands inside
    # a timed piece. A timing's own cost (a CPU-clock read is a system call) is measured and
    # taken off. The whole comes from the same run as its pieces: on a busy machine the CPU
    # time of the same work drifts from one minute to the next.
    overhead = _clock_overhead()
    whole = 0.0
    for chosen in (OUTER, INNER):
        spent: dict[str, list[float]] = {label: [0.0, 0] for label in chosen}
        with _clocked(spent):
            started = time.process_time()
            for tip in data:
                await tips.file_tip(context(), tip)
            elapsed = time.process_time() - started
        timings = sum(calls for _, calls in spent.values())
        if chosen is OUTER:
            whole = round((elapsed - timings * overhead) * 1e6 / filings, 1)
            costs["file_tip, no I/O (all of the below)"] = whole
        for label, (seconds, calls) in spent.items():
            costs[f"file_tip: {label}"] = round((seconds - calls * overhead) * 1e6 / filings, 1)
    mine = sum(costs[f"file_tip: {label}"] for label in OUTER)
    costs["file_tip: the rest (tip row, ids, clock, answer model)"] = round(whole - mine, 1)
    costs["answer: TipCreated.model_dump_json"] = _each(answers, lambda a: a.model_dump_json())

    # Fresh rows for each way of sending the statement: a filing's ids are its own.
    statements = []
    for _ in range(3):
        kept.statements.clear()
        for tip in data:
            await tips.file_tip(context(), tip)
        statements.append(list(kept.statements))
    costs.update(await _statement_costs(url, statements))
    return {
        "filings": filings,
        "unit": "µs of CPU per filing (time.process_time; one process, one filing at a time)",
        "costs_us": costs,
    }


# What file_tip calls, by where it is looked up when called, and the label of its cost.
PIECES = {
    "persons + their blind-index rows": (tip_persons, "filed_persons"),
    "receipt code + its hash": (receipts, "new_receipt"),
    "outbox event (contract model, CloudEvent)": (Outbox, "event_row"),
    "watches of the clocks": (tip_clocks, "first_watches"),
    "statement parameters (bind processors, AES-GCM)": (InsertTogether, "parameters"),
    "of which HMAC-SHA256 (persons' keys, receipt)": (BlindIndex, "digest"),
    "of which AES-GCM (personal fields, one call each)": (FieldCipher, "encrypt"),
}
INNER = [label for label in PIECES if label.startswith("of which")]
OUTER = [label for label in PIECES if label not in INNER]


def _wrapped(label: str, function: Callable[..., Any], spent: dict[str, list[float]]) -> Any:
    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            figures = spent[label]
            figures[0] += time.process_time() - started
            figures[1] += 1

    return run


def _clock_overhead(calls: int = 20000) -> float:
    """What timing one call adds to the time it reports, in seconds."""
    spent: dict[str, list[float]] = {"": [0.0, 0]}
    timed = _wrapped("", lambda: None, spent)
    for _ in range(calls):
        timed()
    return spent[""][0] / calls


@contextmanager
def _clocked(spent: dict[str, list[float]]) -> Iterator[None]:
    """The pieces named in ``spent`` wrapped so that their CPU time and calls add up there."""
    originals = {label: getattr(*PIECES[label]) for label in spent}
    try:
        for label, function in originals.items():
            setattr(*PIECES[label], _wrapped(label, function, spent))
        yield
    finally:
        for label, function in originals.items():
            setattr(*PIECES[label], function)


async def _statement_costs(
    url: str, statements: Sequence[Sequence[tuple[str, Sequence[Any]]]]
) -> dict[str, float]:
    """Client CPU per filing of sending its one statement: session, one_statement, bare pool."""
    db = Database(url, pool_size=1, application_name="ctip-bench-filing-costs")
    pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=1, max_size=1)
    in_session, autocommit, bare = statements
    try:

        async def session(s: tuple[str, Sequence[Any]]) -> None:
            async with db.sessions() as session, session.begin():
                connection = await session.connection()
                await connection.exec_driver_sql(s[0], tuple(s[1]))

        async def one(s: tuple[str, Sequence[Any]]) -> None:
            async with db.one_statement() as session:
                connection = await session.connection()
                await connection.exec_driver_sql(s[0], s[1])

        async def plain(s: tuple[str, Sequence[Any]]) -> None:
            await pool.execute(s[0], *s[1])

        for work, rows in ((session, in_session), (one, autocommit), (plain, bare)):
            await work(rows[0])  # connected, statement prepared
        return {
            "statement: SQLAlchemy session (BEGIN, statement, COMMIT)": await _each_async(
                in_session[1:], session
            ),
            "statement: Database.one_statement (autocommit)": await _each_async(
                autocommit[1:], one
            ),
            "statement: bare asyncpg pool (same-work reference)": await _each_async(
                bare[1:], plain
            ),
        }
    finally:
        await pool.close()
        await db.dispose()
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await connection.execute(TRUNCATE)
        finally:
            await connection.close()
