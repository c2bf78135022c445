"""Intake use cases: load → domain rules → save with the outbox event, in one transaction."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.crypto import BlindIndex
from libs.common.ids import new_id
from libs.contracts.intake import TipReceived
from services.intake import domain
from services.intake.models import Tip, platform
from services.intake.schemas import TipCreate, TipCreated

RECEIPT_DIGITS = 16


def new_receipt_code() -> str:
    """16 random decimal digits (10^16 codes) from the OS CSPRNG."""
    return "".join(secrets.choice("0123456789") for _ in range(RECEIPT_DIGITS))


def receipt_hash(index: BlindIndex, code: str) -> str:
    return index.digest("receipt", code)


async def file_tip(
    session: AsyncSession,
    data: TipCreate,
    principal: Principal | None,
    index: BlindIndex,
) -> TipCreated:
    now = datetime.now(UTC)
    code = new_receipt_code()
    tip = Tip(
        id=new_id(),
        channel=data.channel.value,
        status=domain.TipStatus.received.value,
        description=data.description,
        incident_ward_code=data.incident_ward_code,
        occurred_on=data.occurred_on,
        exploitation_types=[t.value for t in data.exploitation_types],
        receipt_hash=receipt_hash(index, code),
        filed_by=principal.sub if principal else None,
        received_at=now,
        resolution_due_at=domain.resolution_due_at(now),
        version=1,
    )
    session.add(tip)
    await session.flush()
    await platform.outbox.add(
        session,
        "intake.tip.received",
        tip.id,
        TipReceived(
            tip_id=tip.id,
            channel=tip.channel,
            status=tip.status,
            incident_ward_code=tip.incident_ward_code,
            exploitation_types=tip.exploitation_types,
            received_at=tip.received_at,
            resolution_due_at=tip.resolution_due_at,
        ),
    )
    return TipCreated(
        id=tip.id,
        receipt_code=code,
        status=domain.TipStatus(tip.status),
        received_at=tip.received_at,
        resolution_due_at=tip.resolution_due_at,
    )
