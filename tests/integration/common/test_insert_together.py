"""``InsertTogether``: rows for several tables in one statement, on the real PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import (
    Table,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from libs.common.bulk import InsertTogether
from libs.common.crypto import cipher

pytestmark = pytest.mark.integration


def together(parent: Table, child: Table, trail: Table) -> InsertTogether:
    return InsertTogether(
        [
            (parent, ("id", "label", "tags"), False),
            (child, ("id", "parent_id", "position", "secret"), True),
            (trail, ("note",), False),
        ]
    )


async def write(db: AsyncEngine, statement: InsertTogether, rows: list[list[Any]]) -> None:
    async with async_sessionmaker(db)() as session, session.begin():
        await statement.execute(session, rows)


async def count(db: AsyncEngine, table: Table) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table.fullname}"))).scalar())


async def test_parent_and_children_go_in_together_encrypted(
    db: AsyncEngine, tables: tuple[Table, Table, Table]
) -> None:
    parent, child, trail = tables
    parent_id = uuid.uuid4()
    children = [
        {"id": uuid.uuid4(), "parent_id": parent_id, "position": n, "secret": f"Nguyễn Thị {n}"}
        for n in range(3)
    ]
    await write(
        db,
        together(*tables),
        [[{"id": parent_id, "label": "a", "tags": ["x", "y"]}], children, [{"note": "filed"}]],
    )
    async with db.connect() as conn:
        stored = (
            await conn.execute(text(f"SELECT position, secret FROM {child.fullname} ORDER BY 1"))
        ).all()
        tags = (await conn.execute(text(f"SELECT tags FROM {parent.fullname}"))).scalar()
    assert tags == ["x", "y"]
    assert [p for p, _ in stored] == [0, 1, 2]
    for position, raw in stored:
        assert "Nguyễn" not in raw  # encrypted by the column's type
        assert cipher().decrypt(raw, f"{child.schema}.child.secret") == f"Nguyễn Thị {position}"
    assert await count(db, trail) == 1


async def test_no_rows_for_a_many_table_inserts_none_of_it(
    db: AsyncEngine, tables: tuple[Table, Table, Table]
) -> None:
    parent, child, trail = tables
    await write(
        db,
        together(*tables),
        [[{"id": uuid.uuid4(), "label": "b", "tags": []}], [], [{"note": "alone"}]],
    )
    assert (await count(db, parent), await count(db, child), await count(db, trail)) == (1, 0, 1)


@pytest.mark.parametrize(
    "fault",
    ["child of another parent", "child value too long", "last table value too long"],
)
async def test_one_failing_part_stores_nothing_and_nothing_is_truncated(
    db: AsyncEngine, tables: tuple[Table, Table, Table], fault: str
) -> None:
    parent, child, trail = tables
    parent_id = uuid.uuid4()
    child_row = {"id": uuid.uuid4(), "parent_id": parent_id, "position": 1, "secret": None}
    parent_row = {"id": parent_id, "label": "c", "tags": []}
    trail_row = {"note": "ok"}
    if fault == "child of another parent":
        child_row["parent_id"] = uuid.uuid4()
    elif fault == "child value too long":
        parent_row["label"] = "longer than five"
    else:
        trail_row["note"] = "x" * 21
    with pytest.raises(DBAPIError):
        await write(db, together(*tables), [[parent_row], [child_row], [trail_row]])
    assert (await count(db, parent), await count(db, child), await count(db, trail)) == (0, 0, 0)


async def test_the_statement_joins_the_sessions_transaction(
    db: AsyncEngine, tables: tuple[Table, Table, Table]
) -> None:
    parent, _, _ = tables
    async with async_sessionmaker(db)() as session:
        await session.begin()
        await together(*tables).execute(
            session,
            [[{"id": uuid.uuid4(), "label": "d", "tags": []}], [], [{"note": "rolled back"}]],
        )
        await session.rollback()
    assert await count(db, parent) == 0


def test_wrong_row_counts_and_array_columns_in_many_tables_are_refused(
    tables: tuple[Table, Table, Table],
) -> None:
    parent = tables[0]
    statement = together(*tables)
    with pytest.raises(ValueError, match="exactly one row"):
        statement.parameters([[], [], [{"note": "x"}]])
    with pytest.raises(ValueError, match="expected rows for 3 tables"):
        statement.parameters([[]])
    with pytest.raises(ValueError, match="arrays cannot be unnested"):
        InsertTogether([(parent, ("id", "tags"), True)])
