"""victim_support's event handlers: reception, exactly once, of victims linked on a case and of
victims handed over by a partner province."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto import BlindIndex
from libs.common.events import CloudEvent
from libs.common.inbox import Handler
from libs.contracts.casework import VictimLinked
from services.victim_support import domain, service
from services.victim_support.schemas import PersonIn


def _person(payload: VictimLinked) -> PersonIn:
    return PersonIn.model_validate(
        {
            "full_name": payload.full_name,
            "date_of_birth": payload.date_of_birth,
            "age": payload.age,
            "sex": payload.sex,
            "phone": payload.phone,
            "id_number": payload.id_number,
            "hometown_ward_code": payload.hometown_ward_code,
        }
    )


def handlers(index: BlindIndex) -> dict[str, Handler]:
    async def on_victim_linked(
        session: AsyncSession, event: CloudEvent, link: VictimLinked
    ) -> None:
        """A victim named on a case is received (status ``received``, awaiting a social
        worker), or linked to the person already received."""
        actor = service.Actor(principal=None, index=index, now=datetime.now(UTC))
        await service.receive(
            session,
            actor,
            service.Reception(
                source=domain.Source.case,
                received_at=link.linked_at,
                ward_code=link.ward_code,
                province_code=link.province_code,
                person=_person(link),
                nationality=link.nationality or domain.HOME_NATIONALITY,
                is_minor=link.is_minor,
                needs=[],
                case_id=link.case_id,
                exploitation_types=link.exploitation_types,
                source_kind="case_party",
                source_ref=str(link.party_id),
            ),
        )

    return {"casework.case.victim_linked": on_victim_linked}
