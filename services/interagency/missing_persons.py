"""The missing-person read model, kept from intake's events for matching, and the alert to
partners once intake publishes a report."""

from __future__ import annotations

from libs.contracts.intake import (
    MissingPersonPublished,
    MissingPersonReported,
    MissingPersonResolved,
)
from services.interagency import match_repository, matching, repository
from services.interagency.access import Ctx
from services.interagency.alert_data import MissingPersonData
from services.interagency.alerts import queue_alert
from services.interagency.domain import AlertType


async def missing_person_reported(ctx: Ctx, report: MissingPersonReported) -> None:
    """Keep the report for matching; partners hear of it only once it is published."""
    index = ctx.index
    await match_repository.upsert_missing_person(
        ctx.session,
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
            "updated_at": ctx.now,
        },
        [
            index.key64(matching.KEY_PURPOSE, key)
            for key in matching.stored_name_keys(report.full_name)
        ],
    )


async def missing_person_published(ctx: Ctx, published: MissingPersonPublished) -> None:
    """Alert every partner subscribed to missing persons once an officer published the report
    (a report from the public is never alerted before)."""
    partners = list(
        await repository.subscribed_partners(ctx.session, AlertType.missing_person.value)
    )
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
        contact_agency=ctx.settings.contact_agency,
    )
    await queue_alert(
        ctx,
        AlertType.missing_person,
        data.fields_set(),
        partners,
        published.missing_person_id,
    )


async def missing_person_resolved(ctx: Ctx, resolved: MissingPersonResolved) -> None:
    """A resolved report is matched no more; its blocking keys are dropped."""
    await match_repository.close_missing_person(
        ctx.session, resolved.missing_person_id, "resolved", ctx.now
    )
