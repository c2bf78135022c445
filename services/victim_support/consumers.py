"""victim_support's event handlers: reception, exactly once, of victims linked on a case and of
victims handed over by a partner province."""

from __future__ import annotations

from libs.common.events import CloudEvent
from libs.common.inbox import Handler
from libs.common.jurisdiction import is_province_code
from libs.contracts.casework import VictimLinked
from libs.contracts.interagency import AlertReceived
from services.victim_support import domain
from services.victim_support.access import Ctx
from services.victim_support.reception import Reception, receive
from services.victim_support.schemas import PersonIn

SUPPORT_TYPES = {t.value for t in domain.SupportType}


def _person(payload: VictimLinked | AlertReceived) -> PersonIn:
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


async def on_victim_linked(ctx: Ctx, event: CloudEvent, link: VictimLinked) -> None:
    """A victim named on a case is received (status ``received``, awaiting a social
    worker), or linked to the person already received."""
    await receive(
        ctx,
        Reception(
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


async def on_alert_received(ctx: Ctx, event: CloudEvent, alert: AlertReceived) -> None:
    """A partner province hands a victim over to us: received once per alert, or linked to
    the person already received."""
    if alert.alert_type != "victim_handover":
        return
    province = alert.receiving_province_code
    if province is None or not is_province_code(province):
        raise ValueError("a victim handover names the receiving province")
    await receive(
        ctx,
        Reception(
            source=domain.Source.partner_province,
            received_at=alert.handover_at or alert.received_at,
            ward_code=None,
            province_code=province,
            person=_person(alert),
            nationality=alert.nationality or domain.HOME_NATIONALITY,
            is_minor=None,
            needs=[n for n in alert.needs if n in SUPPORT_TYPES],
            case_id=None,
            exploitation_types=[],
            source_kind="partner_alert",
            source_ref=str(alert.alert_id),
        ),
    )


HANDLERS: dict[str, Handler] = {
    "casework.case.victim_linked": on_victim_linked,
    "interagency.alert.received": on_alert_received,
}
