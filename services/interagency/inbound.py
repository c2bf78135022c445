"""Partners' signed alerts, the missing-person read model, matching and match decisions.

An inbound webhook is accepted only when its signature holds for *that* partner's inbound
secret (current, or previous during a rotation), its timestamp is within the tolerance, and its
``data`` is exactly the allow-list of its type. A ``webhook-id`` seen before is answered 202
again with no second effect: senders retry whenever they miss our answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.concurrency import check_if_match
from libs.common.crypto import BlindIndex
from libs.common.errors import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable
from libs.common.ids import new_id
from libs.common.jurisdiction import is_province_code
from libs.common.platform import platform_of
from libs.common.webhooks import WebhookVerificationError, generate_secret, verify
from libs.contracts.intake import (
    MissingPersonPublished,
    MissingPersonReported,
    MissingPersonResolved,
)
from libs.contracts.interagency import (
    AlertReceived,
    FoundPerson,
    MatchDecided,
    MatchFound,
    MatchReason,
)
from services.interagency import domain, matching, repository
from services.interagency.domain import (
    AlertType,
    Decision,
    Direction,
    KeyRing,
    MatchStatus,
    PartnerStatus,
)
from services.interagency.models import Alert, Match, MissingPersonRef, Partner, metadata
from services.interagency.schemas import (
    DATA_MODELS,
    InboundAccepted,
    InboundEvent,
    MatchRead,
    MissingPersonData,
    PersonFoundData,
    ReasonOut,
    VictimHandoverData,
)
from services.interagency.service import Actor, queue_alert

# Until the use cases take the context: the platform of this service's schema.
platform = platform_of(metadata)

_BAD_SIGNATURE = "invalid webhook signature"
_DUMMY_KEYS = (generate_secret(), generate_secret())
"""Keys nobody holds, verified against when the partner is unknown or disabled: the same work as
for a known partner, so neither the answer nor the time taken tells whether a code is ours."""
_KEYS_VERIFIED = 2
"""Every inbound request is checked against this many keys (a partner's current and previous
secret, padded with dummies), whether the partner exists, rotated recently or not."""


def _validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Each error names its field; an error about the whole document (JSON that is not an
    object) names the ``body``."""
    return [
        {
            "field": ".".join(str(p) for p in e.get("loc", ())) or "body",
            "message": str(e.get("msg")),
        }
        for e in exc.errors()
    ]


def _keys_to_verify(partner: Partner | None, now: datetime) -> list[str]:
    """The partner's valid inbound secrets, or none for an unknown or disabled partner, padded
    with dummy keys to a constant count."""
    keys: list[str] = []
    if partner is not None and partner.status == PartnerStatus.enabled.value:
        ring = KeyRing(
            partner.inbound_secret, partner.inbound_previous, partner.inbound_previous_until
        )
        keys = ring.keys(now)
    return keys + list(_DUMMY_KEYS[: _KEYS_VERIFIED - len(keys)])


async def receive(
    session: AsyncSession,
    actor: Actor,
    partner_code: str,
    headers: Mapping[str, str],
    body: bytes,
) -> InboundAccepted:
    """Verify, deduplicate, validate and store, in the request's transaction; matching follows
    from the ``interagency.alert.received`` event (``match_received_alert``).

    An unknown, disabled or not-a-province code goes through the same verification, against
    dummy keys, and fails with the same problem as a wrong signature: a caller cannot probe
    which provinces are our partners. The answer never says whether the person matched one of
    our missing persons: that would tell a partner about them.
    """
    # Not a province code: no lookup (no odd bytes in SQL), the same 401 all the same.
    partner = (
        await repository.get_partner(session, partner_code)
        if is_province_code(partner_code)
        else None
    )
    try:
        verified = verify(
            _keys_to_verify(partner, actor.now),
            headers,
            body,
            now=actor.now,
            tolerance_seconds=actor.settings.webhook_tolerance_seconds,
        )
    except WebhookVerificationError as exc:
        # The reason (missing header, clock skew, no matching signature) helps a partner fix its
        # sender, and is the same whether or not the code is a partner of ours.
        raise Unauthorized(f"{_BAD_SIGNATURE}: {exc}") from exc
    if partner is None or partner.status != PartnerStatus.enabled.value:
        raise Unauthorized(f"{_BAD_SIGNATURE}: no matching signature")  # unreachable in practice
    seen = await repository.get_receipt(session, partner.code, verified.msg_id)
    if seen is not None:
        return InboundAccepted(alert_id=seen.alert_id, duplicate=True)
    try:
        event = InboundEvent.model_validate(json.loads(body))
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, ValidationError):
            raise Unprocessable("the alert is not valid", errors=_validation_errors(exc)) from exc
        raise Unprocessable(
            "the body is not JSON", errors=[{"field": "body", "message": "not a JSON document"}]
        ) from exc
    if event.source != domain.partner_source(partner.code):
        raise Unprocessable(
            "the CloudEvent source does not name the signing partner",
            errors=[
                {"field": "source", "message": f"expected {domain.partner_source(partner.code)}"}
            ],
        )
    alert_id = new_id()
    if not await repository.record_receipt(
        session, partner.code, verified.msg_id, alert_id, actor.now
    ):
        seen = await repository.get_receipt(session, partner.code, verified.msg_id)
        assert seen is not None
        return InboundAccepted(alert_id=seen.alert_id, duplicate=True)
    data = event.data
    alert_type = AlertType(data.alert_type)
    fields = data.fields_set()
    owner = domain.inbound_owner(alert_type, fields, actor.settings.alert_desk_province)
    alert = Alert(
        id=alert_id,
        direction=Direction.inbound.value,
        alert_type=alert_type.value,
        partner_code=partner.code,
        subject_id=None,  # set below to our missing person when the alert matches one
        event_id=event.id,
        owner_ward_code=owner.ward_code if owner else None,
        owner_province_code=owner.province_code if owner else None,
        data=json.dumps(fields, ensure_ascii=False),
        created_by=f"partner:{partner.code}",
        created_at=actor.now,
    )
    session.add(alert)
    await session.flush()
    await platform.outbox.add(
        session, "interagency.alert.received", alert.id, _received(alert, data)
    )
    # Matched later, from that event (``match_received_alert``): neither the answer nor the time
    # it takes may tell a partner whether its person is one of our missing persons.
    return InboundAccepted(alert_id=alert.id)


async def match_received_alert(session: AsyncSession, actor: Actor, alert_id: UUID) -> None:
    """Match a partner's found person (or handed-over victim) with our open missing persons,
    once the alert is stored: run by our own consumer of ``interagency.alert.received``, off the
    partner's request. The best candidate becomes the alert's ``subject_id``. Seen again (a
    redelivery past the inbox), it changes nothing: matches are unique per person and alert."""
    alert = await repository.get_alert(session, alert_id)
    if alert is None or alert.direction != Direction.inbound.value:
        return
    alert_type = AlertType(alert.alert_type)
    if alert_type not in domain.MATCHABLE:
        return
    data = DATA_MODELS[alert_type].model_validate(json.loads(alert.data))
    assert isinstance(data, PersonFoundData)
    matches = await match_found_person(session, actor, alert, data)
    if matches and alert.subject_id is None:
        alert.subject_id = max(matches, key=lambda m: m.score).missing_person_id
        await session.flush()


def _received(alert: Alert, data: Any) -> AlertReceived:
    """Person fields only for a handover: victim_support receives that person."""
    base: dict[str, Any] = {
        "alert_id": alert.id,
        "partner_code": alert.partner_code,
        "alert_type": alert.alert_type,
        "received_at": alert.created_at,
    }
    if isinstance(data, VictimHandoverData):
        base.update(data.model_dump(exclude={"alert_type"}, exclude_none=True))
    return AlertReceived.model_validate(base)


# Matching -----------------------------------------------------------------------------------------


def found_facts(data: PersonFoundData, index: BlindIndex, now: datetime) -> matching.PersonFacts:
    seen_on = (data.found_at or now).date()
    return matching.PersonFacts(
        full_name=data.full_name,
        sex=data.sex if data.sex not in (None, "unknown") else None,
        date_of_birth=data.date_of_birth,
        birth_year=matching.birth_year_from_age(data.age, seen_on),
        hometown_ward_code=data.hometown_ward_code,
        id_digest=index.digest("id_number", data.id_number) if data.id_number else None,
        phone_digest=index.digest("phone", data.phone) if data.phone else None,
    )


def missing_facts(ref: MissingPersonRef) -> matching.PersonFacts:
    return matching.PersonFacts(
        full_name=ref.full_name,
        sex=ref.sex if ref.sex != "unknown" else None,
        date_of_birth=date.fromisoformat(ref.date_of_birth) if ref.date_of_birth else None,
        birth_year=ref.birth_year,
        hometown_ward_code=ref.hometown_ward_code,
        id_digest=ref.id_digest,
        phone_digest=ref.phone_digest,
    )


async def scored_candidates(
    session: AsyncSession, actor: Actor, facts: matching.PersonFacts
) -> list[tuple[MissingPersonRef, matching.Scored]]:
    """Open missing persons scoring at or above the threshold, best first."""
    settings = actor.settings
    probes = matching.probe_name_keys(facts.full_name) if facts.full_name else set()
    candidates = await repository.match_candidates(
        session,
        name_keys=[actor.index.key64(matching.KEY_PURPOSE, key) for key in probes],
        sex=facts.sex,
        birth_year=facts.year,
        id_digest=facts.id_digest,
        phone_digest=facts.phone_digest,
        limit=settings.match_candidates,
    )
    scored = [(ref, matching.score(missing_facts(ref), facts)) for ref in candidates]
    kept = [(ref, s) for ref, s in scored if s.score >= settings.match_threshold]
    return sorted(kept, key=lambda pair: pair[1].score, reverse=True)


async def match_found_person(
    session: AsyncSession, actor: Actor, alert: Alert, data: PersonFoundData
) -> list[Match]:
    facts = found_facts(data, actor.index, actor.now)
    found = FoundPerson(
        full_name=data.full_name,
        sex=data.sex,
        date_of_birth=data.date_of_birth,
        age=data.age,
        found_at=data.found_at,
        found_place=data.found_place,
        hometown_ward_code=data.hometown_ward_code,
        nationality=data.nationality,
    )
    matches: list[Match] = []
    for ref, scored in await scored_candidates(session, actor, facts):
        reasons = [
            MatchReason(field=r.field, detail=r.detail, weight=r.weight) for r in scored.reasons
        ]
        match = Match(
            id=new_id(),
            missing_person_id=ref.missing_person_id,
            alert_id=alert.id,
            partner_code=alert.partner_code or "",
            score=scored.score,
            reasons=[r.model_dump() for r in reasons],
            status=MatchStatus.candidate.value,
            created_at=actor.now,
            version=1,
        )
        values = {c: getattr(match, c) for c in _MATCH_COLUMNS}
        if not await repository.insert_match(session, values):
            continue
        matches.append(match)
        await platform.outbox.add(
            session,
            "interagency.match.found",
            ref.missing_person_id,
            MatchFound(
                match_id=match.id,
                missing_person_id=ref.missing_person_id,
                alert_id=alert.id,
                partner_code=match.partner_code,
                score=match.score,
                reasons=reasons,
                found=found,
                found_at=actor.now,
            ),
        )
    return matches


_MATCH_COLUMNS = (
    "id",
    "missing_person_id",
    "alert_id",
    "partner_code",
    "score",
    "reasons",
    "status",
    "created_at",
    "version",
)


def match_read(match: Match) -> MatchRead:
    return MatchRead(
        id=match.id,
        missing_person_id=match.missing_person_id,
        alert_id=match.alert_id,
        partner_code=match.partner_code,
        score=match.score,
        reasons=[ReasonOut.model_validate(r) for r in match.reasons],
        status=match.status,
        decided_by=match.decided_by,
        decided_at=match.decided_at,
        created_at=match.created_at,
        version=match.version,
    )


async def decide(
    session: AsyncSession,
    actor: Actor,
    match_id: UUID,
    decision: Decision,
    note: str | None,
    if_match: str | None,
) -> MatchRead:
    principal: Principal | None = actor.principal
    assert principal is not None
    match = await repository.get_match(session, match_id, for_update=True)
    if match is None:
        raise NotFound("no such match")
    ref = await repository.get_missing_person(session, match.missing_person_id)
    if ref is None or not principal.covers(ref.last_seen_ward_code):
        raise Forbidden("this missing person is outside your jurisdiction")
    check_if_match(if_match, match.version)
    try:
        domain.check_decidable(MatchStatus(match.status))
    except domain.RuleViolation as exc:
        raise Conflict(exc.reason) from exc
    match.status = decision.value
    match.decided_by = principal.sub
    match.decided_at = actor.now
    match.version += 1
    await session.flush()
    await platform.outbox.add(
        session,
        "interagency.match.decided",
        match.missing_person_id,
        MatchDecided(
            match_id=match.id,
            missing_person_id=match.missing_person_id,
            alert_id=match.alert_id,
            decision=decision.value,
            decided_at=actor.now,
        ),
    )
    await platform.audit.record(
        session,
        actor=principal,
        action=f"match.{decision.value}",
        record_type="match",
        record_id=str(match.id),
        purpose="missing-person search",
        details={"note": note} if note else {},
    )
    return match_read(match)


# The missing-person read model (from intake's events) --------------------------------------------


async def missing_person_reported(
    session: AsyncSession, actor: Actor, report: MissingPersonReported
) -> None:
    """Keep the report for matching (every open report is matched against partners' found
    persons). Not an alert: partners hear of a report only once intake publishes it
    (``missing_person_published``)."""
    index = actor.index
    await repository.upsert_missing_person(
        session,
        {
            "missing_person_id": report.missing_person_id,
            "status": "open",
            "full_name": report.full_name,
            "sex": report.sex,
            "date_of_birth": report.date_of_birth.isoformat() if report.date_of_birth else None,
            "birth_year": report.date_of_birth.year
            if report.date_of_birth
            else matching.birth_year_from_age(report.age, report.reported_at.date()),
            "hometown_ward_code": report.hometown_ward_code,
            "last_seen_ward_code": report.last_seen_ward_code,
            "province_code": report.province_code,
            "id_digest": index.digest("id_number", report.id_number) if report.id_number else None,
            "phone_digest": index.digest("phone", report.phone) if report.phone else None,
            "reported_at": report.reported_at,
            "updated_at": actor.now,
        },
        [
            index.key64(matching.KEY_PURPOSE, key)
            for key in matching.stored_name_keys(report.full_name)
        ],
    )


async def missing_person_published(
    session: AsyncSession, actor: Actor, published: MissingPersonPublished
) -> None:
    """Alert every partner subscribed to missing persons, once an intake officer published the
    report (a report from the public is never alerted before: DESIGN.md sections 5 and 8)."""
    partners = list(await repository.subscribed_partners(session, AlertType.missing_person.value))
    if not partners:
        return
    data = MissingPersonData(
        missing_person_id=published.missing_person_id,
        full_name=published.full_name,
        sex=published.sex if published.sex in ("female", "male", "other") else "unknown",
        date_of_birth=published.date_of_birth,
        age=published.age,
        last_seen_at=published.last_seen_at,
        last_seen_ward_code=published.last_seen_ward_code,
        hometown_ward_code=published.hometown_ward_code,
        distinguishing_marks=published.distinguishing_marks,
        id_number=published.id_number,
        contact_agency=actor.settings.contact_agency,
    )
    await queue_alert(
        session,
        actor,
        AlertType.missing_person,
        data.fields_set(),
        partners,
        published.missing_person_id,
    )


async def missing_person_resolved(
    session: AsyncSession, actor: Actor, resolved: MissingPersonResolved
) -> None:
    """A resolved report is matched no more; its blocking keys are dropped."""
    await repository.close_missing_person(
        session, resolved.missing_person_id, "resolved", actor.now
    )
