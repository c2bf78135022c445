"""Set-based writes for the hot paths: ``InsertTogether`` (rows for several tables in one
statement), ``InsertNew`` (many rows of one table, those whose key is taken left out and named)
and ``UpdateByKey`` (many rows of one table updated by their key, each with its own values)."""

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
                    placeholders.append(_array_parameter(table, name, n, dialect))
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


def _array_parameter(table: Table, name: str, n: int, dialect: Any) -> str:
    """``$n`` typed as an array of ``name``'s column type, for ``unnest`` (one element per row)."""
    column = table.c[name]
    if isinstance(column.type, ARRAY):
        raise ValueError(f"{table.name}.{name}: arrays cannot be unnested per row")
    # Without a length: a cast to varchar(n) would truncate silently, while the INSERT or UPDATE
    # refuses a value that is too long.
    sql_type = re.sub(r"\(.*\)", "", column.type.compile(dialect=dialect))
    return f"${n}::{sql_type}[]"


class _Columns:
    """Rows of one table as one array parameter per column (each through its column's type:
    an encrypted column is encrypted here, as the ORM would)."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.dialect = postgresql_asyncpg.dialect()  # type: ignore[no-untyped-call]
        self.table, self.columns = table, list(columns)
        self.target = f"{table.schema}.{table.name}"
        self.arrays = [
            _array_parameter(table, name, n, self.dialect) for n, name in enumerate(columns, 1)
        ]
        self._processors = [
            table.c[name].type.dialect_impl(self.dialect).bind_processor(self.dialect)
            for name in columns
        ]

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> tuple[list[Any], ...]:
        args: list[list[Any]] = []
        for name, process in zip(self.columns, self._processors, strict=True):
            values = [row[name] for row in rows]
            args.append([process(v) for v in values] if process is not None else values)
        return tuple(args)


class InsertNew(_Columns):
    """``INSERT ... SELECT * FROM unnest(...) ON CONFLICT (key) DO NOTHING RETURNING key``: any
    number of rows in one statement; the answer names the keys inserted, so a caller learns
    which rows another transaction had taken (it waited for that one to commit or roll back)."""

    def __init__(self, table: Table, columns: Sequence[str], key: Sequence[str]) -> None:
        super().__init__(table, columns)
        self.key = list(key)
        names, keys = ", ".join(self.columns), ", ".join(self.key)
        # Names from the table definition, values only as $n parameters.
        self.sql = (
            f"INSERT INTO {self.target} ({names}) "  # noqa: S608
            f"SELECT * FROM unnest({', '.join(self.arrays)}) "
            f"ON CONFLICT ({keys}) DO NOTHING RETURNING {keys}"
        )

    async def execute(
        self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]
    ) -> set[tuple[Any, ...]]:
        """The keys of the rows inserted (none for no rows)."""
        if not rows:
            return set()
        connection = await session.connection()
        result = await connection.exec_driver_sql(self.sql, self.parameters(rows))
        return {tuple(row) for row in result}


class UpdateByKey(_Columns):
    """``UPDATE t SET c = v.c ... FROM unnest(...) AS v WHERE t.key = v.key``: many rows, each
    with its own values, in one statement. ``columns`` start with the key; a key appears once."""

    def __init__(self, table: Table, key: str, columns: Sequence[str]) -> None:
        super().__init__(table, [key, *columns])
        sets = ", ".join(f"{name} = v.{name}" for name in columns)
        self.sql = (
            f"UPDATE {self.target} AS t SET {sets} "  # noqa: S608
            f"FROM unnest({', '.join(self.arrays)}) AS v({', '.join(self.columns)}) "
            f"WHERE t.{key} = v.{key}"
        )

    async def execute(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> int:
        """The number of rows updated."""
        if not rows:
            return 0
        connection = await session.connection()
        result = await connection.exec_driver_sql(self.sql, self.parameters(rows))
        return int(result.rowcount)


class InsertMany(_Columns):
    """``INSERT ... SELECT * FROM unnest(...)``: any number of rows of one table, one statement."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        super().__init__(table, columns)
        self.sql = (
            f"INSERT INTO {self.target} ({', '.join(self.columns)}) "  # noqa: S608
            f"SELECT * FROM unnest({', '.join(self.arrays)})"
        )

    async def execute(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            connection = await session.connection()
            await connection.exec_driver_sql(self.sql, self.parameters(rows))
