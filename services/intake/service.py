"""Tip use cases: load → domain rules → save with the outbox event, in one transaction.

The request's session is committed by the API layer; these functions only ``flush()``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role
from libs.common.concurrency import check_if_match
from libs.common.crypto import BlindIndex
from libs.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from libs.common.ids import new_id
from libs.common.jurisdiction import province_of
from libs.common.platform import platform_of
from libs.common.text import name_tokens
from libs.contracts.intake import (
    TipClassified,
    TipClosed,
    TipDeadlineExtended,
    TipPersonData,
    TipReceived,
    TipVerified,
)
from services.intake import domain, repository
from services.intake.models import (
    Message,
    Receipt,
    Tip,
    TipExtension,
    metadata,
)
from services.intake.schemas import (
    ClassificationIn,
    DuplicateOut,
    ExtensionIn,
    ExtensionOut,
    MessageOut,
    PersonIn,
    PersonOut,
    ReceiptView,
    ReporterOut,
    TipCreate,
    TipCreated,
    TipRead,
    TipSummary,
    VerificationIn,
)

# Until the use cases take the context: the platform of this service's schema.
platform = platform_of(metadata)

RECEIPT_DIGITS = 16
TO_REPORTER = "to_reporter"
FROM_REPORTER = "from_reporter"


def new_receipt_code() -> str:
    """16 random decimal digits (10^16 codes) from the OS CSPRNG."""
    return "".join(secrets.choice("0123456789") for _ in range(RECEIPT_DIGITS))


def receipt_hash(index: BlindIndex, code: str) -> str:
    return index.digest("receipt", code)


@dataclass(frozen=True)
class Actor:
    """Who acts, with what keys, at what moment: passed to every use case."""

    principal: Principal | None
    index: BlindIndex
    now: datetime
    # The province whose intake officers triage tips filed without a ward (IntakeSettings).
    triage_province: str | None = None

    @property
    def sub(self) -> str:
        return self.principal.sub if self.principal else "anonymous"


async def issue_receipt(session: AsyncSession, actor: Actor, kind: str, subject_id: UUID) -> str:
    code = new_receipt_code()
    session.add(
        Receipt(code_hash=receipt_hash(actor.index, code), subject_kind=kind, subject_id=subject_id)
    )
    return code


def person_digests(
    index: BlindIndex, person: PersonIn, birth_year: int | None, ward: str | None
) -> dict[str, str]:
    """Blind indexes for possible duplicates: phone, ID number, name + birth year + ward."""
    digests: dict[str, str] = {}
    if person.phone:
        digests["phone"] = index.digest("phone", person.phone)
    if person.id_number:
        digests["id_number"] = index.digest("id_number", person.id_number)
    if person.full_name and birth_year is not None and ward:
        key = f"{' '.join(name_tokens(person.full_name))}|{birth_year}|{ward}"
        digests["name_birth_year_ward"] = index.digest("name_birth_year_ward", key)
    return digests


async def file_tip(session: AsyncSession, data: TipCreate, actor: Actor) -> TipCreated:
    """The tip, its persons and their blind indexes, a receipt and ``intake.tip.received``,
    written together in one statement (``repository.insert_filing``)."""
    now = actor.now
    reporter = data.reporter
    tip_id = new_id()
    ward = data.incident_ward_code
    status = domain.TipStatus.received
    exploitation_types = sorted({t.value for t in data.exploitation_types})
    province = province_of(ward) if ward else None
    due = domain.resolution_due_at(now)
    tip = {
        "id": tip_id,
        "channel": data.channel.value,
        "status": status.value,
        "description": data.description,
        "incident_ward_code": ward,
        "province_code": province,
        "occurred_on": data.occurred_on,
        "exploitation_types": exploitation_types,
        "destination_country": data.destination_country,
        "anonymous": reporter is None or not any((reporter.name, reporter.phone, reporter.email)),
        "reporter_name": reporter.name if reporter else None,
        "reporter_phone": reporter.phone if reporter else None,
        "reporter_email": reporter.email if reporter else None,
        "filed_by": actor.principal.sub if actor.principal else None,
        "extensions": [],
        "received_at": now,
        "resolution_due_at": due,
        "updated_at": now,
        "version": 1,
    }
    persons: list[dict[str, object]] = []
    person_index: list[dict[str, object]] = []
    for position, person in enumerate(data.persons):
        person_id = new_id()
        year = domain.birth_year(person.date_of_birth, person.age, now)
        persons.append(
            {
                "id": person_id,
                "tip_id": tip_id,
                "position": position,
                "role": person.role.value,
                "full_name": person.full_name,
                "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else None,
                "birth_year": year,
                "age": person.age,
                "sex": person.sex.value if person.sex else None,
                "phone": person.phone,
                "id_number": person.id_number,
                "hometown_ward_code": person.hometown_ward_code,
                "notes": person.notes,
            }
        )
        home = person.hometown_ward_code or ward
        for kind, digest in person_digests(actor.index, person, year, home).items():
            person_index.append(
                {"tip_id": tip_id, "person_id": person_id, "kind": kind, "digest": digest}
            )
    code = new_receipt_code()
    receipt = {
        "code_hash": receipt_hash(actor.index, code),
        "subject_kind": "tip",
        "subject_id": tip_id,
    }
    _, event = platform.outbox.event_row(
        "intake.tip.received",
        tip_id,
        TipReceived(
            tip_id=tip_id,
            channel=data.channel.value,
            status=status.value,
            incident_ward_code=ward,
            province_code=province,
            exploitation_types=exploitation_types,
            received_at=now,
            resolution_due_at=due,
        ),
    )
    await repository.insert_filing(session, tip, persons, person_index, receipt, event)
    return TipCreated(
        id=tip_id, receipt_code=code, status=status, received_at=now, resolution_due_at=due
    )


def can_see(principal: Principal, tip: Tip, triage_province: str | None) -> bool:
    if tip.incident_ward_code is None:
        return repository.triages(principal, triage_province)
    return principal.covers(tip.incident_ward_code)


async def tip_for_read(session: AsyncSession, actor: Actor, tip_id: UUID) -> Tip:
    assert actor.principal is not None
    tip = await repository.get_tip(session, tip_id)
    if tip is None or not can_see(actor.principal, tip, actor.triage_province):
        raise NotFound("no such tip")
    return tip


async def tip_for_action(
    session: AsyncSession, actor: Actor, tip_id: UUID, if_match: str | None
) -> Tip:
    """The tip, locked for the change; 404 if absent, 403 outside the jurisdiction, 412 if stale."""
    assert actor.principal is not None
    tip = await repository.get_tip(session, tip_id, for_update=True)
    if tip is None:
        raise NotFound("no such tip")
    if not can_see(actor.principal, tip, actor.triage_province):
        raise Forbidden("this tip is outside your jurisdiction")
    check_if_match(if_match, tip.version)
    return tip


def check(tip: Tip, action: domain.TipAction) -> domain.TipStatus:
    return domain.TIP_LIFECYCLE.take(domain.TipStatus(tip.status), action).to


def summary(tip: Tip, now: datetime) -> TipSummary:
    status = domain.TipStatus(tip.status)
    return TipSummary(
        id=tip.id,
        channel=tip.channel,
        status=tip.status,
        priority=tip.priority,
        trafficking_related=tip.trafficking_related,
        incident_ward_code=tip.incident_ward_code,
        exploitation_types=tip.exploitation_types,
        received_at=tip.received_at,
        resolution_due_at=tip.resolution_due_at,
        overdue=domain.is_overdue(status, tip.resolution_due_at, now),
        due_soon=domain.is_due_soon(status, tip.resolution_due_at, now),
        assigned_to=tip.assigned_to,
        version=tip.version,
    )


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.id, direction=message.direction, body=message.body, created_at=message.created_at
    )


async def read_tip(session: AsyncSession, actor: Actor, tip_id: UUID, purpose: str) -> TipRead:
    """The full record. Supervisors get names only (no contact, ID, notes or free text). Every
    read that returns personal data is audited with its purpose."""
    assert actor.principal is not None
    principal = actor.principal
    tip = await tip_for_read(session, actor, tip_id)
    names_only = not principal.has_role(Role.intake_officer, Role.investigator)
    persons = await repository.persons_of(session, tip.id)
    extensions = await repository.extensions_of(session, tip.id)
    messages = await repository.messages_of(session, "tip", tip.id)
    duplicates = await repository.possible_duplicates(
        session, tip.id, repository.tip_scope(principal, actor.triage_province)
    )
    await platform.audit.record(
        session,
        actor=principal,
        action="read",
        record_type="tip",
        record_id=str(tip.id),
        purpose=purpose,
        details={"view": "names_only" if names_only else "full", "persons": len(persons)},
    )
    base = summary(tip, actor.now).model_dump()
    return TipRead(
        **base,
        description=None if names_only else tip.description,
        occurred_on=tip.occurred_on,
        destination_country=tip.destination_country,
        anonymous=tip.anonymous,
        reporter=None
        if names_only or tip.anonymous
        else ReporterOut(
            name=tip.reporter_name, phone=tip.reporter_phone, email=tip.reporter_email
        ),
        persons=[
            PersonOut(id=p.id, role=p.role, full_name=p.full_name)
            if names_only
            else PersonOut(
                id=p.id,
                role=p.role,
                full_name=p.full_name,
                date_of_birth=date.fromisoformat(p.date_of_birth) if p.date_of_birth else None,
                age=p.age,
                sex=p.sex,
                phone=p.phone,
                id_number=p.id_number,
                hometown_ward_code=p.hometown_ward_code,
                notes=p.notes,
            )
            for p in persons
        ],
        classification_notes=None if names_only else tip.classification_notes,
        verification_outcome=tip.verification_outcome,
        duplicate_of=tip.duplicate_of,
        verification_notes=None if names_only else tip.verification_notes,
        resolved_at=tip.resolved_at,
        extensions=[
            ExtensionOut(
                kind=e.kind,
                reason=None if names_only else e.reason,
                previous_due_at=e.previous_due_at,
                new_due_at=e.new_due_at,
                granted_at=e.granted_at,
            )
            for e in extensions
        ],
        messages=[] if names_only else [message_out(m) for m in messages],
        possible_duplicates=[DuplicateOut(tip_id=k, reasons=v) for k, v in duplicates.items()],
    )


def _touch(tip: Tip, now: datetime) -> None:
    tip.version += 1
    tip.updated_at = now


async def message_reporter(
    session: AsyncSession, actor: Actor, tip_id: UUID, body: str
) -> MessageOut:
    assert actor.principal is not None
    tip = await tip_for_action(session, actor, tip_id, None)
    check(tip, domain.TipAction.message_reporter)
    message = Message(
        id=new_id(),
        subject_kind="tip",
        subject_id=tip.id,
        direction=TO_REPORTER,
        body=body,
        author=actor.sub,
        created_at=actor.now,
    )
    session.add(message)
    await session.flush()
    return message_out(message)


async def classify(
    session: AsyncSession, actor: Actor, tip_id: UUID, data: ClassificationIn, if_match: str | None
) -> TipSummary:
    assert actor.principal is not None
    tip = await tip_for_action(session, actor, tip_id, if_match)
    target = check(tip, domain.TipAction.classify)
    # Triage places an unlocated tip wherever it happened (that is what the queue is for); a
    # located tip moves only within the officer's own jurisdiction.
    placing = tip.incident_ward_code is None
    if (
        data.incident_ward_code
        and not placing
        and not actor.principal.covers(data.incident_ward_code)
    ):
        raise Forbidden("you cannot place a tip in a ward outside your jurisdiction")
    tip.trafficking_related = data.trafficking_related.value
    tip.priority = data.priority.value
    if data.exploitation_types:
        tip.exploitation_types = sorted({t.value for t in data.exploitation_types})
    if data.incident_ward_code:
        tip.incident_ward_code = data.incident_ward_code
        tip.province_code = province_of(data.incident_ward_code)
    tip.assigned_to = data.assigned_to or tip.assigned_to
    tip.classification_notes = data.notes
    tip.classified_at = actor.now
    tip.classified_by = actor.sub
    tip.status = target.value
    _touch(tip, actor.now)
    await session.flush()
    await platform.outbox.add(
        session,
        "intake.tip.classified",
        tip.id,
        TipClassified(
            tip_id=tip.id,
            status=tip.status,
            trafficking_related=tip.trafficking_related,
            priority=tip.priority,
            exploitation_types=tip.exploitation_types,
            incident_ward_code=tip.incident_ward_code,
            province_code=tip.province_code,
            classified_at=actor.now,
        ),
    )
    return summary(tip, actor.now)


async def extend_deadline(
    session: AsyncSession, actor: Actor, tip_id: UUID, data: ExtensionIn, if_match: str | None
) -> TipSummary:
    assert actor.principal is not None
    tip = await tip_for_action(session, actor, tip_id, if_match)
    check(tip, domain.TipAction.extend)
    granted = [domain.ExtensionKind(k) for k in tip.extensions]
    try:
        extension = domain.extend(
            kind=data.kind,
            received_at=tip.received_at,
            granted=granted,
            current_due_at=tip.resolution_due_at,
            now=actor.now,
        )
    except domain.RuleViolation as exc:
        raise Conflict(exc.reason) from exc
    session.add(
        TipExtension(
            id=new_id(),
            tip_id=tip.id,
            kind=data.kind.value,
            reason=data.reason,
            previous_due_at=tip.resolution_due_at,
            new_due_at=extension.new_due_at,
            granted_by=actor.sub,
            granted_at=actor.now,
        )
    )
    tip.extensions = [*tip.extensions, data.kind.value]
    tip.resolution_due_at = extension.new_due_at
    _touch(tip, actor.now)
    await session.flush()
    await platform.outbox.add(
        session,
        "intake.tip.deadline_extended",
        tip.id,
        TipDeadlineExtended(
            tip_id=tip.id, kind=data.kind.value, resolution_due_at=extension.new_due_at
        ),
    )
    return summary(tip, actor.now)


async def verify(
    session: AsyncSession, actor: Actor, tip_id: UUID, data: VerificationIn, if_match: str | None
) -> TipSummary:
    assert actor.principal is not None
    tip = await tip_for_action(session, actor, tip_id, if_match)
    check(tip, domain.TipAction.verify)
    if data.outcome is domain.VerificationOutcome.substantiated and tip.incident_ward_code is None:
        raise Conflict(
            "locate the tip first (classification with incident_ward_code): "
            "the case it opens belongs to a ward's jurisdiction"
        )
    if data.duplicate_of is not None:
        if data.duplicate_of == tip.id:
            raise Unprocessable(
                "a tip cannot duplicate itself",
                errors=[{"field": "duplicate_of", "message": "must be another tip"}],
            )
        original = await repository.get_tip(session, data.duplicate_of)
        if original is None or not can_see(actor.principal, original, actor.triage_province):
            raise Unprocessable(
                "the original tip does not exist",
                errors=[{"field": "duplicate_of", "message": "no such tip"}],
            )
    tip.verification_outcome = data.outcome.value
    tip.duplicate_of = data.duplicate_of
    tip.verification_notes = data.notes
    tip.verified_at = tip.resolved_at = actor.now
    tip.verified_by = actor.sub
    tip.status = domain.VERIFICATION_STATUS[data.outcome].value
    _touch(tip, actor.now)
    await session.flush()
    persons: list[TipPersonData] = []
    if data.outcome is domain.VerificationOutcome.substantiated:
        persons = [
            TipPersonData(
                role=p.role,
                full_name=p.full_name,
                date_of_birth=date.fromisoformat(p.date_of_birth) if p.date_of_birth else None,
                age=p.age,
                sex=p.sex,
                phone=p.phone,
                id_number=p.id_number,
                hometown_ward_code=p.hometown_ward_code,
            )
            for p in await repository.persons_of(session, tip.id)
        ]
    await platform.outbox.add(
        session,
        "intake.tip.verified",
        tip.id,
        TipVerified(
            tip_id=tip.id,
            status=tip.status,
            outcome=data.outcome.value,
            duplicate_of=data.duplicate_of,
            incident_ward_code=tip.incident_ward_code,
            province_code=tip.province_code,
            exploitation_types=tip.exploitation_types,
            destination_country=tip.destination_country,
            received_at=tip.received_at,
            verified_at=actor.now,
            verified_by=actor.sub,
            persons=persons,
        ),
    )
    if tip.status == domain.TipStatus.closed.value:
        await platform.outbox.add(
            session,
            "intake.tip.closed",
            tip.id,
            TipClosed(tip_id=tip.id, outcome=data.outcome.value, closed_at=actor.now),
        )
    return summary(tip, actor.now)


# Receipts: the reporter's side ------------------------------------------------------------------


async def receipt_view(session: AsyncSession, actor: Actor, code: str) -> ReceiptView | None:
    receipt = await repository.receipt_by_hash(session, receipt_hash(actor.index, code))
    if receipt is None:
        return None
    messages = await repository.messages_of(session, receipt.subject_kind, receipt.subject_id)
    if receipt.subject_kind == "tip":
        tip = await repository.get_tip(session, receipt.subject_id)
        assert tip is not None
        status, received = tip.status, tip.received_at
    else:
        mp = await repository.get_missing_person(session, receipt.subject_id)
        assert mp is not None
        status, received = mp.status, mp.reported_at
    return ReceiptView(
        kind=receipt.subject_kind,
        status=status,
        received_at=received,
        messages=[message_out(m) for m in messages],
    )


async def add_reporter_message(
    session: AsyncSession, actor: Actor, code: str, body: str
) -> MessageOut | None:
    receipt = await repository.receipt_by_hash(session, receipt_hash(actor.index, code))
    if receipt is None:
        return None
    if receipt.subject_kind == "tip":
        tip = await repository.get_tip(session, receipt.subject_id, for_update=True)
        assert tip is not None
        check(tip, domain.TipAction.reporter_message)
        _touch(tip, actor.now)
    message = Message(
        id=new_id(),
        subject_kind=receipt.subject_kind,
        subject_id=receipt.subject_id,
        direction=FROM_REPORTER,
        body=body,
        author=None,
        created_at=actor.now,
    )
    session.add(message)
    await session.flush()
    return message_out(message)


def now_utc() -> datetime:
    return datetime.now(UTC)
