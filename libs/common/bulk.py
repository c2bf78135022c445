"""``InsertTogether``: rows for several tables written by one statement (the hot write paths)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ARRAY, Table
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.ext.asyncio import AsyncSession


class InsertTogether:
    """Rows for several tables in one prepared statement: one round trip, atomic (see "One
    statement for a hot write path" in docs/architecture.md). ``tables`` maps each table to
    ``(columns, many)``: ``many`` tables take any number of rows (none inserts nothing; no array
    columns there), the others exactly one."""

    def __init__(self, tables: Sequence[tuple[Table, Sequence[str], bool]]) -> None:
        dialect = postgresql_asyncpg.dialect()  # type: ignore[no-untyped-call]
        self.tables = [(table, list(columns), many) for table, columns, many in tables]
        self._processors: list[list[Any]] = []
        parts: list[str] = []
        n = 0
        for table, columns, many in self.tables:
            processors = []
            placeholders = []
            for name in columns:
                column = table.c[name]
                processors.append(column.type.dialect_impl(dialect).bind_processor(dialect))
                n += 1
                if many:
                    if isinstance(column.type, ARRAY):
                        raise ValueError(f"{table.name}.{name}: arrays cannot be unnested per row")
                    # Without a length: a cast to varchar(n) would truncate silently, while
                    # the INSERT refuses a value that is too long.
                    sql_type = re.sub(r"\(.*\)", "", column.type.compile(dialect=dialect))
                    placeholders.append(f"${n}::{sql_type}[]")
                else:
                    placeholders.append(f"${n}")
            self._processors.append(processors)
            # Names from the table definitions, values only as $n parameters.
            target = f"{table.schema}.{table.name} ({', '.join(columns)})"
            source = (
                f"SELECT * FROM unnest({', '.join(placeholders)})"  # noqa: S608
                if many
                else f"VALUES ({', '.join(placeholders)})"
            )
            parts.append(f"INSERT INTO {target} {source}")
        *first, last = parts
        ctes = ",\n".join(f"w{i} AS ({part})" for i, part in enumerate(first))
        self.sql = (f"WITH {ctes}\n" if ctes else "") + last

    def parameters(self, rows: Sequence[Sequence[Mapping[str, Any]]]) -> tuple[Any, ...]:
        """The statement's arguments for ``rows``, one sequence of row mappings per table."""
        if len(rows) != len(self.tables):
            raise ValueError(f"expected rows for {len(self.tables)} tables, got {len(rows)}")
        args: list[Any] = []
        for (table, columns, many), processors, table_rows in zip(
            self.tables, self._processors, rows, strict=True
        ):
            if not many and len(table_rows) != 1:
                raise ValueError(f"{table.name} takes exactly one row, got {len(table_rows)}")
            for name, process in zip(columns, processors, strict=True):
                values = [row[name] for row in table_rows]
                if process is not None:
                    values = [process(v) for v in values]
                args.append(values if many else values[0])
        return tuple(args)

    async def execute(
        self, session: AsyncSession, rows: Sequence[Sequence[Mapping[str, Any]]]
    ) -> None:
        connection = await session.connection()
        await connection.exec_driver_sql(self.sql, self.parameters(rows))
