"""An NGO's batch of deliveries, written set-based: every item judged on its own in memory
(:class:`Judge`, from state read once per batch), then one statement per table for the whole
batch (supports, the people's new state, their timeline, the outbox) instead of a savepoint and
half a dozen statements per item. The answer is item by item, as the contract says: a bad item is
rejected with its reasons and never blocks the good ones; an ``external_id`` recorded before is a
``duplicate``, or a ``conflict`` naming each field that differs, never a second delivery. The
lock order is in docs/architecture.md ("The locks of a delivery batch")."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import Table

from libs.common.bulk import InsertMany, InsertNew, UpdateByKey
from libs.common.ids import new_id
from libs.common.outbox import Outbox
from libs.contracts.victim_support import VictimStatusChanged
from services.victim_support import domain, program_repository, repository
from services.victim_support.access import Ctx, ensure_owns
from services.victim_support.models import Program, Support, Victim, VictimEvent
from services.victim_support.program_repository import Stored
from services.victim_support.program_schemas import (
    DeliveryBatchIn,
    DeliveryBatchOut,
    DeliveryItem,
    DeliveryResult,
)
from services.victim_support.programs import SHARE, program_for, program_refusal
from services.victim_support.repository import Person

DIFFERS = "differs from the delivery recorded under this external_id"


@dataclass(frozen=True)
class Accepted:
    """A good item: the support it becomes and the step it takes the person through."""

    index: int
    item: DeliveryItem
    support_id: UUID
    person: Person  # the person as the batch leaves them (who they are does not change)
    before: str  # the status before this delivery
    after: str  # and after it
    event: str | None


@dataclass(frozen=True)
class Verdict:
    results: list[DeliveryResult]
    accepted: list[Accepted]
    people: dict[UUID, Person]  # the final state of each person a delivery moved


class Judge:
    """Per-item decisions, pure: given the program and what was read for the batch (people by
    the NGO's reference, who is enrolled, whose consent holds, the locked people, the deliveries
    already recorded under the batch's ``external_id``s), each item is ``created``,
    ``duplicate``, ``conflict`` or ``rejected``, in order, as the item-by-item path judged them:
    an ``external_id`` accepted earlier in the batch is a duplicate (or a conflict) of it, and a
    person's second delivery sees the status the first one left."""

    def __init__(
        self,
        program: Program,
        *,
        by_ref: Mapping[str, UUID],
        enrolled: set[UUID],
        consent: Mapping[UUID, bool],
        people: Mapping[UUID, Person],
        seen: Mapping[str, Stored],
        now: datetime,
        make_id: Callable[[], UUID] = new_id,
    ) -> None:
        self.program = program
        self.by_ref, self.enrolled, self.consent = by_ref, enrolled, consent
        self.people, self.seen = people, dict(seen)
        self.now, self.make_id = now, make_id

    def person_of(self, item: DeliveryItem) -> UUID | None:
        """The NGO names a person by the id, or by its own reference given at enrollment."""
        if item.victim_id is not None:
            return item.victim_id
        return self.by_ref.get(item.person_external_id or "")

    def learn(self, stored: Mapping[str, Stored]) -> None:
        """Deliveries another request recorded meanwhile: judged against from now on."""
        self.seen.update(stored)

    def judge(
        self, parsed: Sequence[DeliveryItem | None], rejected: Sequence[DeliveryResult | None]
    ) -> Verdict:
        """``parsed[i]`` is the item if it validated, else ``rejected[i]`` says why. Nothing
        given is changed: judging again after :meth:`learn` starts from the same state."""
        seen = dict(self.seen)
        moved: dict[UUID, Person] = {}  # copies, made as a delivery first moves a person
        results: list[DeliveryResult] = []
        accepted: list[Accepted] = []
        for index, item in enumerate(parsed):
            if item is None:
                result = rejected[index]
                assert result is not None  # an item that did not validate has its answer
                results.append(result)
                continue
            victim_id = self.person_of(item)
            if item.external_id in seen:
                results.append(_against(index, item, victim_id, seen[item.external_id]))
                continue
            person = None
            if victim_id is not None:
                person = moved.get(victim_id) or self.people.get(victim_id)
            reason = self._refusal(item, victim_id, person)
            if reason is not None:
                results.append(_rejected(index, item, reason))
                continue
            assert person is not None  # _refusal answered for anyone not locked
            status = domain.VictimStatus(person.status)
            try:
                transition = domain.LIFECYCLE.step(status, domain.VictimAction.support)
                domain.check_entitlement(item.type, status, person.nationality)
            except domain.RuleViolation as exc:
                results.append(_rejected(index, item, {"field": "type", "message": exc.reason}))
                continue
            if person.id not in moved:
                person = moved[person.id] = copy.copy(person)
            before = person.status
            person.status = transition.to.value
            person.version += 1
            person.first_supported_at = person.first_supported_at or self.now
            support_id = self.make_id()
            seen[item.external_id] = Stored(
                support_id, person.id, item.type.value, item.amount_vnd, item.delivered_on, 1
            )
            accepted.append(
                Accepted(
                    index=index,
                    item=item,
                    support_id=support_id,
                    person=person,
                    before=before,
                    after=person.status,
                    event=transition.event,
                )
            )
            results.append(
                DeliveryResult(
                    index=index,
                    external_id=item.external_id,
                    status="created",
                    support_id=support_id,
                    version=1,
                )
            )
        return Verdict(results, accepted, moved)

    def _refusal(
        self, item: DeliveryItem, victim_id: UUID | None, person: Person | None
    ) -> dict[str, str] | None:
        field = _person_field(item)
        if victim_id is None:
            return {"field": field, "message": "no enrollment of this program has this external_id"}
        if victim_id not in self.enrolled:
            return {"field": field, "message": "not enrolled in this program"}
        if not self.consent.get(victim_id, False) or person is None:
            # Not locked: consent was not in force when the batch chose whom to lock.
            return {"field": field, "message": "consent to share with this organisation withdrawn"}
        return program_refusal(
            item.type, item.delivered_on, self.program, date_field="delivered_on"
        )


def parse(
    raw_items: Sequence[Any],
) -> tuple[list[DeliveryItem | None], list[DeliveryResult | None]]:
    """Each raw item validated on its own: the item, or its rejection naming the fields."""
    parsed: list[DeliveryItem | None] = []
    results: list[DeliveryResult | None] = []
    for index, raw in enumerate(raw_items):
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
                    errors=[
                        {"field": ".".join(str(p) for p in e["loc"]) or "item", "message": e["msg"]}
                        for e in exc.errors()
                    ],
                )
            )
    return parsed, results


def _person_field(item: DeliveryItem) -> str:
    return "victim_id" if item.victim_id is not None else "person_external_id"


def _rejected(index: int, item: DeliveryItem, error: dict[str, str]) -> DeliveryResult:
    return DeliveryResult(
        index=index, external_id=item.external_id, status="rejected", errors=[error]
    )


def _against(
    index: int, item: DeliveryItem, victim_id: UUID | None, stored: Stored
) -> DeliveryResult:
    """An ``external_id`` recorded before: the same delivery again is a duplicate; other content
    is a conflict naming each field that differs (correct it with PUT, never by resending)."""
    differs = [
        field
        for field, same in (
            (_person_field(item), victim_id == stored.victim_id),
            ("type", item.type.value == stored.type),
            ("amount_vnd", item.amount_vnd == stored.amount_vnd),
            ("delivered_on", item.delivered_on == stored.delivered_on),
        )
        if not same
    ]
    return DeliveryResult(
        index=index,
        external_id=item.external_id,
        status="conflict" if differs else "duplicate",
        support_id=stored.support_id,
        version=stored.version,
        errors=[{"field": field, "message": DIFFERS} for field in differs],
    )


# The batch's statements, built once.
SUPPORTS = InsertNew(
    cast(Table, Support.__table__),
    [c.name for c in Support.__table__.columns],  # every column: _support_row gives each
    key=("program_id", "external_id"),
)
PEOPLE = UpdateByKey(
    cast(Table, Victim.__table__), "id", ("status", "version", "updated_at", "first_supported_at")
)
TIMELINE = InsertMany(
    cast(Table, VictimEvent.__table__),
    ("id", "action", "from_status", "to_status", "at", "by", "details", "victim_id"),
)


@cache
def _outbox_insert(outbox: Outbox) -> InsertMany:
    return InsertMany(outbox.table, Outbox.INSERT_COLUMNS)


async def batch(ctx: Ctx, program_id: UUID, body: DeliveryBatchIn) -> DeliveryBatchOut:
    """Up to 1,000 deliveries, each judged on its own, written together."""
    session = ctx.session
    program = await program_for(ctx, program_id)
    ensure_owns(ctx.require_principal(), program)
    parsed, rejected = parse(body.items)
    items = [p for p in parsed if p is not None]
    refs = sorted({i.person_external_id for i in items if i.person_external_id is not None})
    by_ref = await program_repository.enrolled_by_external_ids(session, program.id, refs)
    named = {
        i.victim_id if i.victim_id is not None else by_ref.get(i.person_external_id or "")
        for i in items
    }
    victim_ids = [v for v in named if v is not None]
    # Read without locks first: a person the NGO may not touch is never locked by it.
    enrolled = await program_repository.enrolled_victims(session, program.id, victim_ids)
    consent = await program_repository.consents_for_org(session, list(enrolled), SHARE, program.org)
    allowed = sorted(v for v in enrolled if consent.get(v, False))
    # Lock those (a retried batch waits, then sees its duplicates) and read consent again.
    people = await repository.people_for_deliveries(session, allowed)
    consent = await program_repository.consents_for_org(session, list(people), SHARE, program.org)
    external_ids = [i.external_id for i in items]
    judge = Judge(
        program,
        by_ref=by_ref,
        enrolled=enrolled,
        consent=consent,
        people=people,
        seen=await program_repository.deliveries_recorded(session, program.id, external_ids),
        now=ctx.now,
    )
    while True:
        verdict = judge.judge(parsed, rejected)
        # In external_id order: a batch holds the keys it inserted until it commits, so two
        # batches racing on the same keys in other orders would each wait for the other.
        rows = sorted(
            (_support_row(ctx, program, a) for a in verdict.accepted),
            key=lambda row: row["external_id"],
        )
        inserted = await SUPPORTS.execute(session, rows)
        ours = [a for a in verdict.accepted if (program.id, a.item.external_id) in inserted]
        if len(ours) == len(verdict.accepted):
            break
        # Another request recorded some external_ids meanwhile (for other people than ours, or
        # we would have waited for it at the lock): theirs stand. Take ours back and judge the
        # batch again knowing theirs; each round learns at least one, so this ends.
        lost = [a.item.external_id for a in verdict.accepted if a not in ours]
        await program_repository.delete_supports(session, [a.support_id for a in ours])
        judge.learn(await program_repository.deliveries_recorded(session, program.id, lost))
    await _record_steps(ctx, program, verdict)
    return DeliveryBatchOut(
        created=sum(r.status == "created" for r in verdict.results),
        duplicate=sum(r.status == "duplicate" for r in verdict.results),
        conflict=sum(r.status == "conflict" for r in verdict.results),
        rejected=sum(r.status == "rejected" for r in verdict.results),
        results=verdict.results,
    )


def _support_row(ctx: Ctx, program: Program, accepted: Accepted) -> dict[str, Any]:
    item = accepted.item
    return {
        "id": accepted.support_id,
        "victim_id": accepted.person.id,
        "type": item.type.value,
        "amount_vnd": item.amount_vnd,
        "provided_on": item.delivered_on,
        "provider_org": program.org,
        "program_id": program.id,
        "external_id": item.external_id,
        "created_by": ctx.sub,
        "created_at": ctx.now,
        "version": 1,
    }


async def _record_steps(ctx: Ctx, program: Program, verdict: Verdict) -> None:
    """The people's new state, one timeline entry and one event per delivery, as a support
    recorded alone writes them (``victims.add_support``), one statement per table."""
    session = ctx.session
    await PEOPLE.execute(
        session,
        [
            {
                "id": p.id,
                "status": p.status,
                "version": p.version,
                "updated_at": ctx.now,
                "first_supported_at": p.first_supported_at,
            }
            for p in verdict.people.values()
        ],
    )
    timeline: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for a in verdict.accepted:
        person = a.person
        if domain.ends_verification(domain.VictimStatus(a.before), domain.VictimStatus(a.after)):
            await ctx.deadlines.settle(
                session, domain.WATCHED_RECORD, person.id, domain.VERIFICATION_CLOCK
            )
        details = {
            "type": a.item.type.value,
            "amount_vnd": a.item.amount_vnd,
            "program_id": str(program.id),
        }
        timeline.append(
            VictimEvent.step_row(
                action="support",
                before=a.before,
                after=a.after,
                at=ctx.now,
                by=ctx.sub,
                details=details,
                victim_id=person.id,
            )
        )
        if a.event is None:
            continue
        _, row = ctx.outbox.event_row(
            f"victim_support.victim.{a.event}",
            person.id,
            VictimStatusChanged(
                victim_id=person.id,
                action="support",
                status=a.after,
                source=person.source,
                ward_code=person.ward_code,
                province_code=person.province_code,
                nationality=person.nationality,
                is_minor=person.is_minor,
                case_ids=person.case_ids,
                at=ctx.now,
                details=details,
            ),
        )
        events.append(row)
    await TIMELINE.execute(session, timeline)
    await _outbox_insert(ctx.outbox).execute(session, events)
