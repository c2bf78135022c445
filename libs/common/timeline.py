"""The timeline of a record that walks a lifecycle (a case, a victim): one row per step, with
who took it, when, from which status to which. A model adds its subject's foreign key and its
``details`` column (encrypted where the facts can name a person)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.ids import new_id


class TimelineMixin:
    id: Mapped[UUID] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(200))

    @classmethod
    def step(cls, **fields: Any) -> Any:
        """A new entry (add it to the session), of the fields :meth:`step_row` takes."""
        model: Any = cls  # a mapped subclass: SQLAlchemy's constructor takes the columns
        return model(**cls.step_row(**fields))

    @staticmethod
    def step_row(
        *,
        action: str,
        before: str | None,
        after: str,
        at: datetime,
        by: str,
        details: dict[str, Any],
        **subject: Any,
    ) -> dict[str, Any]:
        """A new entry as a row of its table's columns (a caller inserting many at once:
        ``libs.common.bulk``); ``subject`` names the record, e.g. ``case_id``."""
        return {
            "id": new_id(),
            "action": action,
            "from_status": before,
            "to_status": after,
            "at": at,
            "by": by,
            "details": details,
            **subject,
        }
