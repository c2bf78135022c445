"""Deadline and assignment events become each person's notifications, per the ladder and the
seeded directory; a redelivered event tells nobody twice; each person lists and reads their own
and nobody else's."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.events import CloudEvent
from services.notifications.settings import NotificationsSettings
from tests.integration.notifications.support import (
    MakeContext,
    Ward,
    assigned,
    handled,
    produce,
    signal,
    token,
)
from tests.support import eventually

pytestmark = pytest.mark.integration

FIELDS = {
    "id", "seq", "kind", "service", "record_type", "record_id", "link", "deadline_kind", "due_at",
    "threshold_seconds", "ward_code", "province_code", "created_at", "read_at", "title", "body",
}  # fmt: skip


async def mine(
    client: httpx.AsyncClient, sub: str, query: str = "", role: str = "intake_officer"
) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/notifications{query}", headers=token(sub, role))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def about(items: list[dict[str, Any]], record_id: uuid.UUID) -> list[dict[str, Any]]:
    return [n for n in items if n["record_id"] == str(record_id)]


async def rows_of(db: AsyncEngine, event: CloudEvent) -> list[str]:
    async with db.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT recipient FROM notifications.notifications"
                " WHERE source_event_id = :id ORDER BY recipient"
            ),
            {"id": event.id},
        )
        return list(found.scalars())


async def test_a_tip_nearing_its_deadline_tells_the_wards_officers_and_missing_it_the_supervisor(
    notifications: httpx.AsyncClient, notifications_settings: NotificationsSettings, ward: Ward
) -> None:
    """Through Kafka, as intake's worker emits them: unassigned, so the ward's officers hear of
    the approaching deadline; when missed, the ward's supervisor too; another ward's, never."""
    tip = uuid.uuid4()
    approaching = signal("intake", "approaching", ward, record_id=tip)
    missed = signal("intake", "missed", ward, record_id=tip)
    await produce(notifications_settings, approaching, missed)

    async def officer_told_twice() -> list[dict[str, Any]] | None:
        found = about(await mine(notifications, ward.officer), tip)
        return found if len(found) == 2 else None

    told = await eventually(officer_told_twice, timeout=60)
    assert [n["kind"] for n in told] == ["deadline.missed", "deadline.approaching"]  # newest first
    newest, oldest = told
    assert oldest["title"] == "Tin báo sắp đến hạn giải quyết (còn 5 ngày)"
    assert newest["title"] == "Tin báo đã quá hạn giải quyết"
    assert oldest["link"] == f"/intake/v1/tips/{tip}"
    assert oldest["body"].endswith(f"Xem hồ sơ: /intake/v1/tips/{tip}")
    assert (oldest["service"], oldest["record_type"], oldest["deadline_kind"]) == (
        "intake",
        "tip",
        "resolution",
    )
    assert (oldest["threshold_seconds"], oldest["ward_code"]) == (5 * 86_400, ward.code)
    assert set(oldest) == FIELDS  # a kind, a link, a deadline: never a person

    english = about(await mine(notifications, ward.second_officer), tip)
    assert [n["title"] for n in english] == [
        "Tip resolution deadline missed",
        "Tip nearing its resolution deadline (5 days left)",
    ]
    supervised = about(await mine(notifications, ward.supervisor, role="supervisor"), tip)
    assert [n["kind"] for n in supervised] == ["deadline.missed"]
    assert about(await mine(notifications, ward.elsewhere), tip) == []
    assert about(await mine(notifications, ward.investigator, role="investigator"), tip) == []


async def test_a_redelivered_event_tells_nobody_twice(
    notifications: httpx.AsyncClient,
    notifications_settings: NotificationsSettings,
    ward: Ward,
    db: AsyncEngine,
) -> None:
    tip = uuid.uuid4()
    once = signal("intake", "approaching", ward, record_id=tip, assignee=ward.officer)
    after = signal("intake", "missed", ward, record_id=tip, assignee=ward.officer)
    await produce(notifications_settings, once, once, after)

    async def both_handled() -> bool:
        return len(about(await mine(notifications, ward.officer), tip)) >= 2

    await eventually(both_handled, timeout=60)
    assert await rows_of(db, once) == [ward.officer]
    assert [n["kind"] for n in about(await mine(notifications, ward.officer), tip)] == [
        "deadline.missed",
        "deadline.approaching",
    ]


async def test_the_table_itself_refuses_a_second_notice_of_one_event(
    notifications: httpx.AsyncClient, ward: Ward, db: AsyncEngine, as_consumer: MakeContext
) -> None:
    """The handler run twice past the inbox (a replayed DLT, a restored inbox): one row each."""
    event = signal("casework", "missed", ward, record_type="case", deadline_kind="stage")
    await handled(db, as_consumer, event)
    await handled(db, as_consumer, event)
    assert await rows_of(db, event) == sorted([ward.investigator, ward.supervisor])


async def test_an_assigned_record_tells_the_assignee_and_its_deadlines_go_to_them_alone(
    notifications: httpx.AsyncClient, ward: Ward, db: AsyncEngine, as_consumer: MakeContext
) -> None:
    case = uuid.uuid4()
    await handled(
        db, as_consumer, assigned("casework.case.assigned", ward, ward.investigator, case)
    )
    approaching = signal(
        "casework", "approaching", ward, record_type="case", deadline_kind="stage",
        record_id=case, assignee=ward.investigator, threshold_seconds=86_400,
    )  # fmt: skip
    await handled(db, as_consumer, approaching)
    told = about(await mine(notifications, ward.investigator, role="investigator"), case)
    assert [(n["kind"], n["title"]) for n in told] == [
        ("deadline.approaching", "Vụ việc sắp hết thời hạn của giai đoạn tố tụng (còn 1 ngày)"),
        ("assigned", "Bạn được giao thụ lý một vụ việc"),
    ]
    assert told[1]["link"] == f"/casework/v1/cases/{case}"
    assert told[1]["due_at"] is None
    assert await rows_of(db, approaching) == [ward.investigator]


async def test_a_victim_s_verification_goes_to_the_wards_social_workers(
    notifications: httpx.AsyncClient, ward: Ward, db: AsyncEngine, as_consumer: MakeContext
) -> None:
    victim = uuid.uuid4()
    event = signal(
        "victim_support", "approaching", ward, record_type="victim",
        deadline_kind="verification", record_id=victim, threshold_seconds=86_400,
    )  # fmt: skip
    await handled(db, as_consumer, event)
    assert await rows_of(db, event) == [ward.social_worker]
    told = about(await mine(notifications, ward.social_worker, role="social_worker"), victim)
    assert told[0]["link"] == f"/victim_support/v1/victims/{victim}"
    assert told[0]["title"] == "Sắp đến hạn xác minh nạn nhân (còn 1 ngày)"


async def test_the_list_pages_newest_first_and_filters_the_unread(
    notifications: httpx.AsyncClient, ward: Ward, db: AsyncEngine, as_consumer: MakeContext
) -> None:
    tips = [uuid.uuid4() for _ in range(3)]
    for tip in tips:
        await handled(db, as_consumer, assigned("intake.tip.assigned", ward, ward.officer, tip))
    first = await notifications.get("/v1/notifications?limit=2", headers=token(ward.officer))
    body = first.json()
    assert [n["record_id"] for n in body["items"]] == [str(tips[2]), str(tips[1])]
    second = await notifications.get(
        f"/v1/notifications?limit=2&cursor={body['next_cursor']}", headers=token(ward.officer)
    )
    assert [n["record_id"] for n in second.json()["items"]] == [str(tips[0])]
    assert second.json()["next_cursor"] is None

    read = await notifications.post(
        f"/v1/notifications/{body['items'][0]['id']}/read", headers=token(ward.officer)
    )
    assert read.status_code == 200, read.text
    unread = await mine(notifications, ward.officer, "?unread=true")
    assert [n["record_id"] for n in unread] == [str(tips[1]), str(tips[0])]


async def test_reading_keeps_the_first_moment_and_another_persons_notification_is_not_found(
    notifications: httpx.AsyncClient, ward: Ward, db: AsyncEngine, as_consumer: MakeContext
) -> None:
    tip = uuid.uuid4()
    await handled(db, as_consumer, assigned("intake.tip.assigned", ward, ward.officer, tip))
    (notice,) = about(await mine(notifications, ward.officer), tip)
    url = f"/v1/notifications/{notice['id']}/read"

    stranger = await notifications.post(url, headers=token(ward.second_officer))
    assert stranger.status_code == 404
    assert stranger.headers["content-type"].startswith("application/problem+json")
    assert stranger.json()["detail"] == "no such notification"
    assert about(await mine(notifications, ward.officer), tip)[0]["read_at"] is None

    first = await notifications.post(url, headers=token(ward.officer))
    again = await notifications.post(url, headers=token(ward.officer))
    assert first.status_code == again.status_code == 200
    assert first.json()["read_at"] is not None
    assert again.json()["read_at"] == first.json()["read_at"]
    assert (
        about(await mine(notifications, ward.officer), tip)[0]["read_at"]
        == (first.json()["read_at"])
    )
    missing = await notifications.post(
        f"/v1/notifications/{uuid.uuid4()}/read", headers=token(ward.officer)
    )
    assert missing.status_code == 404


async def test_a_cursor_that_is_not_ours_is_a_422(notifications: httpx.AsyncClient) -> None:
    response = await notifications.get("/v1/notifications?cursor=WyJ4Il0", headers=token("someone"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


async def test_the_figures_count_created_and_read_by_kind_in_the_callers_jurisdiction(
    notifications: httpx.AsyncClient, ward: Ward, db: AsyncEngine, as_consumer: MakeContext
) -> None:
    tip = uuid.uuid4()
    await handled(db, as_consumer, signal("intake", "approaching", ward, record_id=tip))
    await handled(db, as_consumer, signal("intake", "missed", ward, record_id=tip))
    (notice, _) = [
        n for n in about(await mine(notifications, ward.officer), tip)
        if n["kind"] in ("deadline.approaching", "deadline.missed")
    ]  # fmt: skip
    await notifications.post(f"/v1/notifications/{notice['id']}/read", headers=token(ward.officer))
    response = await notifications.get(
        "/v1/kpis", headers=token(ward.supervisor, "supervisor", ward.code)
    )
    assert response.status_code == 200, response.text
    figures = response.json()
    by_kind = {k["kind"]: (k["created"], k["read"]) for k in figures["by_kind"]}
    # two officers told of both; the supervisor of the missed one
    assert by_kind == {
        "deadline.approaching": (2, 0),
        "deadline.missed": (3, 1),
        "assigned": (0, 0),
    }
    assert (figures["created"], figures["read"]) == (5, 1)
    elsewhere = await notifications.get("/v1/kpis", headers=token("x", "supervisor", "79"))
    assert elsewhere.json()["created"] == 0
