"""Personal data at rest: after the plan's story (its building blocks from ``test_story.py``, in a
ward of its own and with a named reporter), the whole session database is dumped with Debian's
``pg_dump`` and searched for every name, phone number (0912345678, +84912345678, 912345678) and
ID number the story gave anyone; and every service's hash-chained audit log verifies, and names
the row a tamperer changed.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import subprocess
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from libs.common.platform import platform_of as installed_platform
from libs.common.text import fold_vietnamese
from testkit import evidence
from tests.e2e.conftest import Served
from tests.e2e.test_story import (  # noqa: F401  (module-scoped fixtures, this module's own)
    Person,
    Story,
    Told,
    five_services,
    new_person,
    partner_receiver,
    quiet_ward,
    tell,
)
from tests.integration.interagency.support import Receiver

pytestmark = pytest.mark.e2e

SERVICES = ("intake", "casework", "victim_support", "interagency", "outreach")
PARTNER = "04"  # Cao Bằng: not the story's partner, so both modules can run in one session
COPY = re.compile(r"^COPY ([\w.]+) \(")


@dataclass
class Dump:
    text: str
    tables: dict[str, str]  # table -> its COPY block


@dataclass
class Stored:
    told: Told
    persons: list[Person]
    dump: Dump


def pg_dump_binary(server_major: int) -> str:
    """Debian's pg_dump of the server's major version (pg_dump refuses newer servers)."""
    exact = Path(f"/usr/lib/postgresql/{server_major}/bin/pg_dump")
    if exact.exists():
        return str(exact)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))
    if not found:
        pytest.fail("pg_dump not found: apt-get install postgresql-client")
    return str(found[-1])


async def dump_database(database_url: str) -> Dump:
    url = make_url(database_url)
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        major = int((await conn.execute(text("SHOW server_version_num"))).scalar_one()) // 10000
    await engine.dispose()
    done = await asyncio.to_thread(
        subprocess.run,
        [
            pg_dump_binary(major),
            "--data-only",
            "--format=plain",
            "--no-owner",
            "-h",
            "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            "ctip",
            "-d",
            str(url.database),
        ],
        env={**os.environ, "PGPASSWORD": "ctip"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    tables: dict[str, list[str]] = defaultdict(list)
    current: str | None = None
    for line in done.stdout.splitlines():
        if current is None:
            m = COPY.match(line)
            if m:
                current = m.group(1)
            continue
        if line == "\\.":
            current = None
            continue
        tables[current].append(line)
    return Dump(done.stdout, {t: "\n".join(rows) for t, rows in tables.items()})


def needles(persons: list[Person]) -> dict[str, str]:
    """What must not appear: each value, named by whose and which it is."""
    found: dict[str, str] = {}
    for n, p in enumerate(persons):
        found[p.full_name] = f"person {n} full name"
        folded = fold_vietnamese(p.full_name)
        found[folded] = f"person {n} full name without diacritics"
        found[folded.upper()] = f"person {n} full name without diacritics, upper-case"
        if p.phone:
            found[p.phone] = f"person {n} phone (national)"
            found["+84" + p.phone[1:]] = f"person {n} phone (E.164)"
            found[p.phone[1:]] = f"person {n} phone (no trunk zero)"
        if p.id_number:
            found[p.id_number] = f"person {n} ID number"
    return found


def in_clear(dump: Dump, persons: list[Person], tables: Any) -> dict[str, list[str]]:
    """table -> what of whom it holds in clear, for the tables ``tables(name)`` selects."""
    found: dict[str, list[str]] = defaultdict(list)
    for table, block in dump.tables.items():
        if not tables(table):
            continue
        for value, what in needles(persons).items():
            if value in block:
                found[table].append(what)
    return dict(found)


def is_outbox(table: str) -> bool:
    return table.endswith(".outbox")


@pytest.fixture(scope="module")
async def stored(
    five_services: dict[str, Served],  # noqa: F811
    partner_receiver: Receiver,  # noqa: F811
    database_url: str,
) -> Stored:
    rng = random.Random()
    told = Told(ward=quiet_ward(rng), partner=PARTNER, reporter=new_person(rng))
    async with httpx.AsyncClient(timeout=20) as http:
        story = Story({n: s.url for n, s in five_services.items()}, http)
        await tell(story, told, partner_receiver, rng)
    return Stored(told, story.persons, await dump_database(database_url))


def test_the_dump_holds_the_story_so_the_search_is_meaningful(stored: Stored) -> None:
    """Every service's tables are in the dump, and the story's records are among them."""
    schemas = {t.split(".")[0] for t in stored.dump.tables}
    assert set(SERVICES) <= schemas
    assert stored.told.tip["id"] in stored.dump.tables["intake.tips"]
    assert stored.told.victim_received["id"] in stored.dump.tables["victim_support.victims"]
    assert len(stored.persons) == 5


def test_no_name_phone_or_id_number_is_in_clear_in_any_table_but_the_outbox(
    stored: Stored,
) -> None:
    assert in_clear(stored.dump, stored.persons, lambda t: not is_outbox(t)) == {}


def test_no_name_phone_or_id_number_is_in_clear_in_the_outboxes(stored: Stored) -> None:
    assert in_clear(stored.dump, stored.persons, is_outbox) == {}


VICTIM_QUASI_IDENTIFIERS = ("age", "sex", "hometown_ward_code", "is_minor", "nationality")


def test_the_victims_age_sex_hometown_minor_flag_and_nationality_are_not_in_clear(
    stored: Stored,
) -> None:
    """In a small ward these single a person out as surely as a name (issue 13): victim_support
    keeps them encrypted, and no birth year at all."""
    header = next(
        line
        for line in stored.dump.text.splitlines()
        if line.startswith("COPY victim_support.victims (")
    )
    columns = header[header.index("(") + 1 : header.index(")")].split(", ")
    victim_id = stored.told.victim_received["id"]
    row = next(
        line.split("\t")
        for line in stored.dump.tables["victim_support.victims"].splitlines()
        if line.startswith(victim_id)
    )
    values = dict(zip(columns, row, strict=True))
    assert "birth_year" not in values
    assert values["is_minor"] != "\\N"  # the story's victim is 15: there is a value to hide
    in_clear = [
        c
        for c in VICTIM_QUASI_IDENTIFIERS
        if values[c] != "\\N" and not values[c].startswith("v1.")
    ]
    assert in_clear == []


def platform_of(service: str) -> Any:
    module = __import__(f"services.{service}.models", fromlist=["platform"])
    return installed_platform(module.metadata)


@pytest.fixture
async def engine(owner_database_url: str) -> AsyncIterator[AsyncEngine]:
    """As the schemas' owner: the tampering test switches the append-only trigger off."""
    engine = create_async_engine(owner_database_url)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
async def test_the_audit_chain_of_each_service_verifies(
    stored: Stored, engine: AsyncEngine, service: str
) -> None:
    async with AsyncSession(engine) as session:
        report = await platform_of(service).audit.verify_chain(session)
    assert report.ok, report
    if service in ("intake", "casework", "victim_support", "interagency"):
        assert report.entries > 0, f"the story read {service}'s personal data: audit entries"


async def test_a_tampered_audit_row_is_named_and_the_chain_holds_again_once_restored(
    stored: Stored, engine: AsyncEngine
) -> None:
    audit = platform_of("victim_support").audit
    table = "victim_support.audit_log"

    async def rewrite(seq: int, purpose: str) -> None:
        """As the table's owner: switch the append-only trigger off, rewrite, switch it on."""
        async with engine.begin() as conn:
            await conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER audit_log_append_only"))
            await conn.execute(
                text(f"UPDATE {table} SET purpose = :p WHERE seq = :s"), {"p": purpose, "s": seq}
            )
            await conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER audit_log_append_only"))

    async with engine.connect() as conn:
        seq, purpose = (
            await conn.execute(text(f"SELECT seq, purpose FROM {table} ORDER BY seq LIMIT 1"))
        ).one()
    await rewrite(seq, "nothing to see here")
    try:
        async with AsyncSession(engine) as session:
            tampered = await audit.verify_chain(session)
        assert not tampered.ok
        assert tampered.first_broken_seq == seq
        assert tampered.reason == "entry content does not match its hash"
    finally:
        await rewrite(seq, purpose)
    async with AsyncSession(engine) as session:
        assert (await audit.verify_chain(session)).ok
    async with engine.connect() as conn:
        with pytest.raises(Exception, match="append-only"):
            await conn.execute(text(f"UPDATE {table} SET purpose = 'x' WHERE seq = {seq}"))


def test_the_reporters_photo_is_nowhere_in_clear_in_the_dump(stored: Stored) -> None:
    """Neither the photo's name nor its bytes (as pg_dump writes a bytea, in hex) are in any
    table; the phone model its EXIF named is gone from the stored file and from the tables."""
    assert stored.told.photo_download is not None
    photo = stored.told.photo_download.content
    assert len(photo) > 200
    assert stored.told.photo["filename"] == "zalo-moi-gioi.jpg"
    assert "zalo-moi-gioi" not in stored.dump.text
    assert evidence.PHONE_MODEL not in stored.dump.text
    middle = len(photo) // 2
    for start in (64, middle, len(photo) - 96):
        assert photo[start : start + 32].hex() not in stored.dump.text
