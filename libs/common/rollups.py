# ruff: noqa: S608  (SQL from the names of a Rollup, constants of the code, never from input)
"""Daily and monthly rollups of a service's figures, exact at every commit.

A rollup is a table of counters keyed by a day (or a month) and a few dimensions (ward, province,
...), so that a period's figures are a SUM over its months and the days at its edges instead of
a count over a year of base rows. It is kept by statement-level triggers on the base table
(``AFTER INSERT/UPDATE/DELETE ... REFERENCING ... TABLE``): every statement that changes base
rows appends, in its own transaction, one *pending* row per (day, dimensions) it changed, holding
the difference (what the new rows contribute minus what the old ones did). Appending never waits
on another writer's lock: two filings in the same ward on the same day do not queue.

:meth:`Rollup.compact` folds pending rows into *folded* rows, one per (grain, period, dimensions),
at every grain (day, month, quarter, year); a service's worker runs it every so often. It writes
the days and months; a trigger on the rollup table adds the rows it deletes to their quarters and
years in the same statement (:meth:`Rollup.coarser_ddl`), so that the database keeps the coarser
grains whichever version of the code folds. Readers sum folded and pending rows together, so a
figure is exact whether or not the fold has run: the fold only keeps the rows few.
:meth:`Rollup.check` recounts the base table and lists every difference; :meth:`Rollup.backfill`
rebuilds the table from a recount (a migration, or ``ctip rollups``).

Periods are whole UTC days (``libs.common.figures.day_start``): a period is read as the fewest
rows of the four grains that add up to it, a year less its days after the period, say
(``libs.common.rollup_reads``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    MetaData,
    String,
    Table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.types import TypeEngine

DAY, MONTH, QUARTER, YEAR = "d", "m", "q", "y"
# The grains coarser than a day: what each truncates a day to, finest first.
COARSER = {MONTH: "month", QUARTER: "quarter", YEAR: "year"}


@dataclass(frozen=True)
class Feed:
    """Another table whose changes move a rollup's counters (the cases of the tips counted, say):
    ``contribution`` as a rollup's, from its rows, against the current rows of the others.
    ``serialize`` (a statement on ``{rows}``) runs first in each trigger: an advisory lock per
    shared key, taken by the rollup's own triggers too, so that two transactions changing the two
    sides of one pair never both miss the other's change. ``on``: the writes that may move the
    counters (a new row that no row of the rollup's table can reference yet needs no trigger)."""

    source: str
    contribution: str
    on: tuple[str, ...] = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")


@dataclass(frozen=True)
class Rollup:
    """One rollup table of ``schema``. ``contribution`` is a SELECT of what rows of ``source``
    add: ``day, *keys, *counters`` in that order, from ``{rows}`` (the base table or a trigger's
    transition table) with every counter multiplied by ``{sign}`` (1 or -1). It may yield several
    rows per base row (one per exploitation type, say), or none. It is also the recount."""

    schema: str
    name: str
    source: str
    keys: tuple[tuple[str, TypeEngine[Any]], ...]
    counters: tuple[str, ...]
    contribution: str
    feeds: tuple[Feed, ...] = ()
    serialize: str = ""
    # A key whose values split the rollup into areas read on their own (a province): the folded
    # rows get an index led by it too, so that a read of one area does not range over them all.
    area_key: str | None = None
    # Its days are days already past (a receipt, an opening): no row is after today, so that a
    # read may take a whole year or quarter less its days to come at no cost (rollup_reads).
    # A read is exact either way; this only chooses the rows it takes.
    past_days: bool = False

    # Tables -------------------------------------------------------------------------------------

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.keys)

    def table(self, metadata: MetaData) -> Table:
        """The rollup table on a service's metadata (created by its migration: :meth:`ddl`)."""
        return Table(
            self.name,
            metadata,
            Column("grain", String(1), nullable=False),
            Column("period_start", Date, nullable=False),
            *(Column(name, kind) for name, kind in self.keys),
            *(Column(name, BigInteger, nullable=False) for name in self.counters),
            Column("folded", Boolean, nullable=False),
            Index(
                f"ux_{self.name}_folded",
                "grain",
                "period_start",
                *self.key_names,
                unique=True,
                postgresql_where=text("folded"),
                postgresql_nulls_not_distinct=True,
            ),
            # the reads: index-only ranges of a grain's periods (period_slice)
            Index(
                f"ix_{self.name}_read",
                "grain",
                "period_start",
                postgresql_include=[*self.key_names, *self.counters],
                postgresql_where=text("folded"),
            ),
            Index(f"ix_{self.name}_pending", "period_start", postgresql_where=text("NOT folded")),
            *self._area_index(),
            schema=self.schema,
            # what a read may subtract, and whether days to come are empty (rollup_reads)
            info={"counters": self.counters, "past_days": self.past_days},
        )

    def _area_index(self) -> list[Index]:
        if self.area_key is None:
            return []
        others = [k for k in self.key_names if k != self.area_key]
        return [
            Index(
                f"ix_{self.name}_area_read",
                self.area_key,
                "grain",
                "period_start",
                postgresql_include=[*others, *self.counters],
                postgresql_where=text("folded"),
            )
        ]

    def ddl(self, metadata: MetaData) -> list[str]:
        """The table, its indexes and the triggers that keep it, then a backfill: what the
        migration that introduces the rollup runs (the owner of the schema runs it)."""
        from sqlalchemy.dialects import postgresql
        from sqlalchemy.schema import CreateIndex, CreateTable

        table = self.table(MetaData(schema=self.schema))
        dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
        statements = [str(CreateTable(table).compile(dialect=dialect))]
        statements += [str(CreateIndex(i).compile(dialect=dialect)) for i in table.indexes]
        return statements + self.trigger_ddl() + self.backfill_sql()

    def area_index_ddl(self) -> list[str]:
        """The index led by ``area_key`` alone, what a migration adds to a rollup made without."""
        from sqlalchemy.dialects import postgresql
        from sqlalchemy.schema import CreateIndex

        table = self.table(MetaData(schema=self.schema))
        dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
        area = [i for i in table.indexes if i.name == f"ix_{self.name}_area_read"]
        # IF NOT EXISTS: the migration that made the rollup builds it from today's definition
        return [str(CreateIndex(i, if_not_exists=True).compile(dialect=dialect)) for i in area]

    def drop_area_index_ddl(self) -> list[str]:
        return [f"DROP INDEX IF EXISTS {self.schema}.ix_{self.name}_area_read"]

    def drop_ddl(self) -> list[str]:
        functions = ["", *(f"_{feed.source}" for feed in self.feeds)]
        return [
            f"DROP TABLE IF EXISTS {self.qualified}",
            *(f"DROP FUNCTION IF EXISTS {self.qualified}_track{f}() CASCADE" for f in functions),
            f"DROP FUNCTION IF EXISTS {self.qualified}_coarser() CASCADE",
        ]

    # Keeping it ---------------------------------------------------------------------------------

    def _delta(self, rows: str, sign: int) -> str:
        return self.contribution.format(rows=rows, sign=sign)

    def _summed(self, body: str, grain_expression: str = "day") -> str:
        """``body``'s contributions summed per (period, keys), rows of no effect left out."""
        keys = ", ".join(self.key_names)
        sums = ", ".join(f"sum({c})::bigint AS {c}" for c in self.counters)
        nonzero = " OR ".join(f"sum({c}) <> 0" for c in self.counters)
        columns = ", ".join(("day", *self.key_names, *self.counters))
        return (
            f"SELECT {grain_expression} AS period_start, {keys}, {sums}"
            f" FROM ({body}) AS c({columns})"
            f" GROUP BY {grain_expression}, {keys} HAVING {nonzero}"
        )

    def _insert(self, folded: bool) -> str:
        columns = ", ".join(("grain", "period_start", *self.key_names, *self.counters, "folded"))
        return f"INSERT INTO {self.qualified} ({columns})"

    def trigger_ddl(self) -> list[str]:
        statements: list[str] = []
        for feed in (Feed(self.source, self.contribution), *self.feeds):
            statements += self._triggers(feed)
        return statements + self.coarser_ddl()

    def track_function_ddl(self) -> list[str]:
        """The triggers' functions alone (``CREATE OR REPLACE``), for a new truncation recount."""
        feeds = (Feed(self.source, self.contribution), *self.feeds)
        return [self._triggers(feed)[0] for feed in feeds]

    def _coarser_from(self, rows: str) -> str:
        """The quarters and years of ``rows`` (their ``period_start``, keys and counters)."""
        values = "SELECT period_start, " + ", ".join((*self.key_names, *self.counters))
        grains = (QUARTER, YEAR)
        summed = {
            g: self._summed(f"{values} FROM {rows}", self._truncated(g, "day")) for g in grains
        }
        union = " UNION ALL ".join(f"SELECT '{g}', s.*, true FROM ({summed[g]}) s" for g in summed)
        return f"{self._insert(True)} {union}"

    def coarser_ddl(self) -> list[str]:
        """The trigger that keeps the quarters and years: the pending rows the fold deletes are
        added to their quarter and year; a statement deleting folded rows is a rebuild."""
        function = f"{self.qualified}_coarser"
        return [
            f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows WHERE folded) THEN
        RETURN NULL;
    END IF;
    {self._coarser_from("old_rows")}{self._fold_into()};
    RETURN NULL;
END $$""",
            f"CREATE OR REPLACE TRIGGER {self.name}_coarser AFTER DELETE ON {self.qualified}"
            f" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]

    def add_coarser_sql(self) -> list[str]:
        """A migration's, for a rollup made without quarters and years: the trigger that keeps
        them, the triggers' functions again (a truncation's recount writes them), the rows from
        the folded months, and the planner's statistics (else it takes the new rows for none)."""
        months = f"{self.qualified} WHERE folded AND grain = '{MONTH}'"
        return [
            *self.coarser_ddl(),
            *self.track_function_ddl(),
            self._lock(),
            self._coarser_deleted(),
            self._coarser_from(months),
            f"ANALYZE {self.qualified}",
        ]

    def remove_coarser_sql(self) -> list[str]:
        drop = f"DROP FUNCTION IF EXISTS {self.qualified}_coarser() CASCADE"
        return [drop, self._coarser_deleted()]

    def _coarser_deleted(self) -> str:
        return f"DELETE FROM {self.qualified} WHERE folded AND grain IN ('{QUARTER}', '{YEAR}')"

    def _triggers(self, feed: Feed) -> list[str]:
        pending = ", ".join(("period_start", *self.key_names, *self.counters))
        new = feed.contribution.format(rows="new_rows", sign=1)
        old = feed.contribution.format(rows="old_rows", sign=-1)

        def append(body: str, *tables: str) -> str:
            first = "".join(f"{self.serialize.format(rows=t)};\n" for t in tables if self.serialize)
            summed = self._summed(body)
            return f"{first}{self._insert(False)} SELECT 'd', {pending}, false FROM ({summed}) s;"

        suffix = "" if feed.source == self.source else f"_{feed.source}"
        function = f"{self.qualified}_track{suffix}"
        recount = ";\n".join(self._rebuild_sql())  # a truncation: the rollup recounted
        body = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {append(new, "new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {append(old, "old_rows")}
    ELSIF TG_OP = 'UPDATE' THEN
        {append(f"{new} UNION ALL {old}", "new_rows", "old_rows")}
    ELSE
        {recount};
    END IF;
    RETURN NULL;
END $$"""
        source = f"{self.schema}.{feed.source}"
        name = f"{self.name}{suffix}"
        track = f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        triggers = {
            "INSERT": f"CREATE TRIGGER {name}_insert AFTER INSERT ON {source}"
            f" REFERENCING NEW TABLE AS new_rows {track}",
            "UPDATE": f"CREATE TRIGGER {name}_update AFTER UPDATE ON {source}"
            f" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {track}",
            "DELETE": f"CREATE TRIGGER {name}_delete AFTER DELETE ON {source}"
            f" REFERENCING OLD TABLE AS old_rows {track}",
            "TRUNCATE": f"CREATE TRIGGER {name}_truncate AFTER TRUNCATE ON {source} {track}",
        }
        return [body, *(triggers[write] for write in feed.on)]

    def _lock(self) -> str:
        return f"SELECT pg_advisory_xact_lock(hashtext('{self.qualified}'))"

    def _fold_into(self) -> str:
        keys = ", ".join(self.key_names)
        updates = ", ".join(f"{c} = {self.name}.{c} + EXCLUDED.{c}" for c in self.counters)
        return f" ON CONFLICT (grain, period_start, {keys}) WHERE folded DO UPDATE SET {updates}"

    def compact_sql(self) -> list[str]:
        """Pending rows folded into the day and month rows, in the caller's transaction."""
        pending = ", ".join(("period_start", *self.key_names, *self.counters))
        moved = f"DELETE FROM {self.qualified} WHERE NOT folded RETURNING {pending}"
        return [
            self._lock(),
            f"WITH moved AS ({moved}) "
            f"{self._insert(True)} "
            f"SELECT 'd', s.*, true FROM ({self._summed('SELECT * FROM moved')}) s"
            f" UNION ALL "
            f"SELECT 'm', s.*, true FROM "
            f"({self._summed('SELECT * FROM moved', self._truncated(MONTH, 'day'))}) s"
            f"{self._fold_into()}",
        ]

    @staticmethod
    def _truncated(grain: str, column: str) -> str:
        return f"date_trunc('{COARSER[grain]}', {column})::date"

    def backfill_sql(self) -> list[str]:
        """The table rebuilt from a recount; writers of the base tables wait meanwhile."""
        return [
            self._lock(),
            *(
                f"LOCK TABLE {self.schema}.{table} IN SHARE MODE"
                for table in (self.source, *(feed.source for feed in self.feeds))
            ),
            *self._rebuild_sql(),
        ]

    def _rebuild_sql(self) -> list[str]:
        """Every row deleted, then every grain written from a recount (also what a truncation of
        a base table runs). The second delete: when no row was folded yet, the first was a fold
        to the quarters and years of :meth:`coarser_ddl`."""
        recount = self._delta(f"{self.schema}.{self.source}", 1)
        coarser = "".join(
            f" UNION ALL SELECT '{grain}', s.*, true FROM"
            f" ({self._summed(recount, self._truncated(grain, 'day'))}) s"
            for grain in COARSER
        )
        return [
            f"DELETE FROM {self.qualified}",
            f"DELETE FROM {self.qualified} WHERE folded",
            f"{self._insert(True)} SELECT 'd', s.*, true FROM ({self._summed(recount)}) s{coarser}",
        ]

    def check_sql(self) -> str:
        """Every (grain, period, keys) whose counters differ between the rollup (folded and
        pending rows together) and a recount of the base table: ``side`` is where the row is."""
        recount = self._delta(f"{self.schema}.{self.source}", 1)
        values = ", ".join((*self.key_names, *self.counters))
        parts = []
        for grain in (DAY, *COARSER):
            period = "period_start" if grain == DAY else self._truncated(grain, "period_start")
            counted = self._summed(
                recount, "day" if grain == DAY else self._truncated(grain, "day")
            )
            stored = self._summed(
                f"SELECT CASE WHEN folded THEN period_start ELSE {period} END, {values}"
                f" FROM {self.qualified} WHERE (folded AND grain = '{grain}') OR NOT folded"
            )
            parts.append(
                f"SELECT '{grain}' AS grain, 'recount' AS side, * FROM"
                f" (({counted}) EXCEPT ({stored})) x"
                f" UNION ALL SELECT '{grain}', 'rollup', * FROM (({stored}) EXCEPT ({counted})) y"
            )
        return " UNION ALL ".join(parts)

    # Using it -----------------------------------------------------------------------------------

    async def compact(self, session: AsyncSession | AsyncConnection) -> int:
        """Folds the pending rows; how many day and month rows it wrote."""
        written = 0
        for statement in self.compact_sql():
            result = await session.execute(text(statement))
            written = int(getattr(result, "rowcount", 0) or 0)
        return written

    async def backfill(self, session: AsyncSession | AsyncConnection) -> None:
        for statement in self.backfill_sql():
            await session.execute(text(statement))

    async def check(self, session: AsyncSession | AsyncConnection) -> list[dict[str, Any]]:
        """The differences from a recount; none when the rollup is right."""
        rows = await session.execute(text(self.check_sql()))
        return [dict(row._mapping) for row in rows]
