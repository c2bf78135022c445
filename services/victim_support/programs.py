"""NGO and international-organisation programs: registration, enrollments under consent,
batches of service deliveries, and reports for donors.

An NGO sees a person only through a pseudonymous reference (stable per organisation, useless to
anyone else) and, while the person's consent to share with that NGO is in force, the little it
needs to serve them. A withdrawn consent stops new enrollments and deliveries and hides the
person's data from the NGO at once.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any
from uuid import UUID

from openpyxl import Workbook
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role
from libs.common.concurrency import check_if_match
from libs.common.crypto import BlindIndex
from libs.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from libs.common.ids import new_id
from libs.common.platform import platform_of
from services.victim_support import domain, repository
from services.victim_support.models import Enrollment, Program, Victim, metadata
from services.victim_support.schemas import (
    DeliveryBatchIn,
    DeliveryBatchOut,
    DeliveryItem,
    DeliveryResult,
    EnrollmentIn,
    EnrollmentOut,
    Period,
    ProgramCreate,
    ProgramRead,
    SupportIn,
    SupportOut,
)
from services.victim_support.service import Actor, add_support, support_out

# Until the use cases take the context: the platform of this service's schema.
platform = platform_of(metadata)

SHARE = domain.ConsentScope.share_with_ngo.value


async def _audit_ngo_read(
    session: AsyncSession, principal: Principal, victim_id: UUID, program: Program
) -> None:
    """An NGO seeing a consenting person's data is a read of personal data like any other."""
    await platform.audit.record(
        session,
        actor=principal,
        action="read",
        record_type="victim",
        record_id=str(victim_id),
        purpose=f"serve the person in program {program.id} of {program.org} (consent)",
        details={"view": "ngo"},
    )


def victim_ref(index: BlindIndex, org: str, victim_id: UUID) -> str:
    return "v-" + index.digest("ngo_ref", f"{org}:{victim_id}")[:16]


def _own(principal: Principal, program: Program) -> None:
    if principal.has_role(Role.admin):
        return
    if principal.has_role(Role.ngo) and principal.org == program.org:
        return
    raise Forbidden("this program belongs to another organisation")


async def program_for(session: AsyncSession, principal: Principal, program_id: UUID) -> Program:
    program = await repository.get_program(session, program_id)
    if program is None:
        raise NotFound("no such program")
    if principal.has_role(Role.admin, Role.supervisor):
        return program
    if principal.has_role(Role.ngo) and principal.org == program.org:
        return program
    raise NotFound("no such program")


async def create_program(session: AsyncSession, actor: Actor, data: ProgramCreate) -> ProgramRead:
    principal = actor.principal
    assert principal is not None
    if not principal.has_role(Role.admin) and data.org != principal.org:
        raise Forbidden("an NGO registers programs of its own organisation only")
    program = Program(
        id=new_id(),
        name=data.name,
        org=data.org,
        funder=data.funder,
        support_types=sorted({t.value for t in data.support_types}),
        period_start=data.period.start,
        period_end=data.period.end,
        created_at=actor.now,
        created_by=actor.sub,
    )
    session.add(program)
    await session.flush()
    return await read_program(session, actor, program.id)


def _ngo_view(victim: Victim) -> dict[str, Any]:
    """The least an NGO needs to serve a consenting person."""
    return {
        "full_name": victim.full_name,
        "age_band": domain.age_band(
            domain.age_on(
                date.today(),
                date_of_birth=date.fromisoformat(victim.date_of_birth)
                if victim.date_of_birth
                else None,
                age_at_reception=victim.age,
                received_on=victim.received_at.date(),
            )
        ),
        "sex": victim.sex,
        "is_minor": victim.is_minor,
        "needs": victim.needs,
        "status": victim.status,
    }


async def read_program(session: AsyncSession, actor: Actor, program_id: UUID) -> ProgramRead:
    principal = actor.principal
    assert principal is not None
    program = await program_for(session, principal, program_id)
    enrollments = await repository.enrollments_of(session, program.id)
    ids = [e.victim_id for e in enrollments]
    consent = await repository.consents_for_org(session, ids, SHARE, program.org)
    victims = await repository.victims_by_ids(session, ids)
    shows_people = principal.has_role(Role.ngo) and principal.org == program.org
    shown = [e.victim_id for e in enrollments if shows_people and consent.get(e.victim_id, False)]
    for victim_id in shown:
        await _audit_ngo_read(session, principal, victim_id, program)
    return ProgramRead(
        id=program.id,
        name=program.name,
        org=program.org,
        funder=program.funder,
        support_types=program.support_types,
        period=Period(start=program.period_start, end=program.period_end),
        created_at=program.created_at,
        enrollments=[
            EnrollmentOut(
                id=e.id,
                victim_ref=victim_ref(actor.index, program.org, e.victim_id),
                external_id=e.external_id,
                enrolled_at=e.enrolled_at,
                consent_active=consent.get(e.victim_id, False),
                person=_ngo_view(victims[e.victim_id])
                if shows_people and consent.get(e.victim_id, False)
                else None,
            )
            for e in enrollments
        ],
    )


async def enroll(
    session: AsyncSession, actor: Actor, program_id: UUID, data: EnrollmentIn
) -> EnrollmentOut:
    principal = actor.principal
    assert principal is not None
    program = await program_for(session, principal, program_id)
    _own(principal, program)
    victim = await repository.get_victim(session, data.victim_id)
    consented = victim is not None and await repository.consent_active(
        session, victim.id, SHARE, program.org
    )
    if victim is None or not consented:
        # One answer for "no such person" and "no consent": an NGO cannot probe for people.
        raise Unprocessable(
            "this person has not consented to share with your organisation",
            errors=[
                {"field": "victim_id", "message": "no consent to share with this organisation"}
            ],
        )
    if await repository.enrolled_victims(session, program.id, [victim.id]):
        raise Conflict("this person is already enrolled in the program")
    if await repository.enrollment_by_external_id(session, program.id, data.external_id):
        raise Conflict("this external_id already names an enrollment of the program")
    enrollment = Enrollment(
        id=new_id(),
        program_id=program.id,
        victim_id=victim.id,
        external_id=data.external_id,
        enrolled_at=actor.now,
        enrolled_by=actor.sub,
    )
    values = {c.key: getattr(enrollment, c.key) for c in Enrollment.__table__.columns}
    inserted = await session.execute(
        insert(Enrollment).values(**values).on_conflict_do_nothing().returning(Enrollment.id)
    )
    if inserted.first() is None:  # a concurrent enrollment won the race
        raise Conflict("this person or this external_id is already enrolled in the program")
    await _audit_ngo_read(session, principal, victim.id, program)
    return EnrollmentOut(
        id=enrollment.id,
        victim_ref=victim_ref(actor.index, program.org, victim.id),
        external_id=enrollment.external_id,
        enrolled_at=enrollment.enrolled_at,
        consent_active=True,
        person=_ngo_view(victim),
    )


async def record_support(
    session: AsyncSession, actor: Actor, victim_id: UUID, data: SupportIn, if_match: str | None
) -> SupportOut:
    """One support by an NGO, through one of its programs, for a consenting person enrolled in
    it: the same checks as a delivery batch, plus the person's version."""
    principal = actor.principal
    assert principal is not None
    if data.program_id is None:
        raise Unprocessable(
            "an NGO records supports through one of its programs",
            errors=[{"field": "program_id", "message": "required for an NGO"}],
        )
    if data.provider_org != principal.org:
        raise Forbidden("an NGO records supports under its own organisation")
    program = await program_for(session, principal, data.program_id)
    _own(principal, program)
    refused = NotFound("no consenting person enrolled in this program with this id")
    if not await _may_serve(session, program, [victim_id]):
        raise refused  # before any lock: an NGO cannot hold up a person it may not touch
    victim = await repository.get_victim(session, victim_id, for_update=True)
    if victim is None or not await _may_serve(session, program, [victim_id]):
        raise refused  # consent withdrawn while we waited for the lock
    check_if_match(if_match, victim.version)
    refusal = _program_refusal(data.type, data.provided_on, program)
    if refusal is not None:
        raise Unprocessable(refusal["message"], errors=[refusal])
    support = await add_support(
        session,
        actor,
        victim,
        support_type=data.type,
        amount_vnd=data.amount_vnd,
        provided_on=data.provided_on,
        provider_org=program.org,
        program_id=program.id,
        external_id=None,
    )
    await session.flush()
    return support_out(support)


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or "item", "message": e["msg"]}
        for e in exc.errors()
    ]


async def deliveries(
    session: AsyncSession, actor: Actor, program_id: UUID, batch: DeliveryBatchIn
) -> DeliveryBatchOut:
    """Up to 1,000 deliveries, each judged on its own: a bad item is rejected with its reasons
    and never blocks the good ones; an ``external_id`` seen before is a duplicate, not a second
    delivery. Each good item is written under a savepoint."""
    principal = actor.principal
    assert principal is not None
    program = await program_for(session, principal, program_id)
    _own(principal, program)
    parsed: list[DeliveryItem | None] = []
    results: list[DeliveryResult | None] = []
    for index, raw in enumerate(batch.items):
        try:
            parsed.append(DeliveryItem.model_validate(raw))
            results.append(None)
        except ValidationError as exc:
            parsed.append(None)
            external = raw.get("external_id") if isinstance(raw, dict) else None
            results.append(
                DeliveryResult(
                    index=index,
                    external_id=str(external)[:100] if external is not None else None,
                    status="rejected",
                    errors=_errors(exc),
                )
            )
    items = [p for p in parsed if p is not None]
    victim_ids = list({i.victim_id for i in items})
    # Who the NGO may serve is read first, without locks: a person it may not touch is never
    # locked, so naming one cannot slow down or block the social workers acting on them.
    enrolled = await repository.enrolled_victims(session, program.id, victim_ids)
    consent = await repository.consents_for_org(session, list(enrolled), SHARE, program.org)
    allowed = sorted(v for v in enrolled if consent.get(v, False))
    # Then those are locked: each delivery moves the person's status and version, like a single
    # support does, and a concurrent batch for the same people (a client retrying before the
    # answer came) waits here until the first commits, so that its deliveries are then seen
    # below. Consent is read again under the lock: withdrawing it locks the person too, so a
    # withdrawal that committed while we waited is seen.
    victims = await repository.victims_by_ids(session, allowed, for_update=True)
    consent = await repository.consents_for_org(session, list(victims), SHARE, program.org)
    seen = await repository.supports_by_external_ids(
        session, program.id, [i.external_id for i in items]
    )
    in_batch: dict[str, UUID] = {}
    for index, item in enumerate(parsed):
        if item is None:
            continue
        if item.external_id in seen or item.external_id in in_batch:
            first = (
                seen[item.external_id].id
                if item.external_id in seen
                else in_batch[item.external_id]
            )
            results[index] = DeliveryResult(
                index=index, external_id=item.external_id, status="duplicate", support_id=first
            )
            continue
        reason = _refusal(item, program, enrolled, consent)
        if reason is not None:
            results[index] = DeliveryResult(
                index=index, external_id=item.external_id, status="rejected", errors=[reason]
            )
            continue
        try:
            async with session.begin_nested():
                support = await add_support(
                    session,
                    actor,
                    victims[item.victim_id],
                    support_type=item.type,
                    amount_vnd=item.amount_vnd,
                    provided_on=item.delivered_on,
                    provider_org=program.org,
                    program_id=program.id,
                    external_id=item.external_id,
                )
                await session.flush()
        except Unprocessable as exc:
            results[index] = DeliveryResult(
                index=index,
                external_id=item.external_id,
                status="rejected",
                errors=exc.errors or [{"field": "type", "message": exc.detail}],
            )
            continue
        except IntegrityError as exc:
            # Another request stored this external_id meanwhile (for other people than ours,
            # or we would have waited for it above): the savepoint undid ours, theirs stands.
            if "external_id" not in str(exc.orig):
                raise
            # The rollback to the savepoint expired what it had changed on the person.
            await session.refresh(victims[item.victim_id])
            stored = await repository.supports_by_external_ids(
                session, program.id, [item.external_id]
            )
            results[index] = DeliveryResult(
                index=index,
                external_id=item.external_id,
                status="duplicate",
                support_id=stored[item.external_id].id,
            )
            continue
        in_batch[item.external_id] = support.id
        results[index] = DeliveryResult(
            index=index, external_id=item.external_id, status="created", support_id=support.id
        )
    final = [r for r in results if r is not None]
    return DeliveryBatchOut(
        created=sum(r.status == "created" for r in final),
        duplicate=sum(r.status == "duplicate" for r in final),
        rejected=sum(r.status == "rejected" for r in final),
        results=final,
    )


async def _may_serve(session: AsyncSession, program: Program, victim_ids: list[UUID]) -> set[UUID]:
    """The people among ``victim_ids`` enrolled in the program whose consent to share with its
    organisation is in force: the only ones an NGO's request may lock."""
    enrolled = await repository.enrolled_victims(session, program.id, victim_ids)
    consent = await repository.consents_for_org(session, list(enrolled), SHARE, program.org)
    return {v for v in enrolled if consent.get(v, False)}


def _refusal(
    item: DeliveryItem, program: Program, enrolled: set[UUID], consent: dict[UUID, bool]
) -> dict[str, str] | None:
    if item.victim_id not in enrolled:
        return {"field": "victim_id", "message": "not enrolled in this program"}
    if not consent.get(item.victim_id, False):
        return {
            "field": "victim_id",
            "message": "consent to share with this organisation withdrawn",
        }
    return _program_refusal(item.type, item.delivered_on, program, date_field="delivered_on")


def _program_refusal(
    support_type: domain.SupportType,
    on: date,
    program: Program,
    *,
    date_field: str = "provided_on",
) -> dict[str, str] | None:
    """A support the program does not fund, or outside its period."""
    if support_type.value not in program.support_types:
        return {"field": "type", "message": "not a support type of this program"}
    if not program.period_start <= on <= program.period_end:
        return {"field": date_field, "message": "outside the program's period"}
    return None


async def report(session: AsyncSession, principal: Principal, program_id: UUID) -> dict[str, Any]:
    """Counts, people and amounts by support type and month: figures only, no persons."""
    program = await program_for(session, principal, program_id)
    rows = await repository.program_report_rows(session, program.id)
    lines = [
        {"support_type": t, "month": m, "deliveries": n, "people": p, "amount_vnd": int(a)}
        for t, m, n, a, p in rows
    ]
    return {
        "program_id": str(program.id),
        "name": program.name,
        "org": program.org,
        "funder": program.funder,
        "period": {
            "start": program.period_start.isoformat(),
            "end": program.period_end.isoformat(),
        },
        "rows": lines,
        "totals": {
            "deliveries": sum(r["deliveries"] for r in lines),
            "amount_vnd": sum(r["amount_vnd"] for r in lines),
        },
    }


REPORT_COLUMNS = ("month", "support_type", "deliveries", "people", "amount_vnd")


def report_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(data["rows"])
    return out.getvalue()


def _cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def report_xlsx(data: dict[str, Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Deliveries"
    sheet.append([_cell(data["name"]), _cell(data["org"]), _cell(data["funder"] or "")])
    sheet.append([f"period {data['period']['start']} to {data['period']['end']}"])
    sheet.append(list(REPORT_COLUMNS))
    for row in data["rows"]:
        sheet.append([_cell(row[c]) for c in REPORT_COLUMNS])
    sheet.append(["total", "", data["totals"]["deliveries"], "", data["totals"]["amount_vnd"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
