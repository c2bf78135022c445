"""Each person's preferences through the API: the defaults, a replacement read back, the inbox
always on, and bodies refused with a 422 that names each field."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.integration.notifications.support import token

pytestmark = pytest.mark.integration
URL = "/v1/notifications/preferences"


def someone() -> dict[str, str]:
    return token(f"prefs-{uuid.uuid4().hex[:8]}", "social_worker")


async def test_a_person_who_never_chose_has_the_defaults(notifications: httpx.AsyncClient) -> None:
    response = await notifications.get(URL, headers=someone())
    assert response.status_code == 200, response.text
    assert response.json() == {
        "channels": ["inbox", "email"],
        "quiet_hours": None,
        "email_digest": True,
        "updated_at": None,
    }


async def test_preferences_are_replaced_and_read_back_with_the_inbox_always_on(
    notifications: httpx.AsyncClient,
) -> None:
    me = someone()
    body = {
        "channels": ["webhook"],
        "quiet_hours": {"start": "22:00", "end": "06:00"},
        "email_digest": False,
    }
    put = await notifications.put(URL, headers=me, json=body)
    assert put.status_code == 200, put.text
    stored = (await notifications.get(URL, headers=me)).json()
    assert stored == put.json()
    assert stored["channels"] == ["inbox", "webhook"]
    assert stored["quiet_hours"] == {"start": "22:00:00", "end": "06:00:00"}
    assert stored["email_digest"] is False
    assert stored["updated_at"] is not None

    again = await notifications.put(
        URL, headers=me, json={"channels": ["inbox", "email"], "email_digest": True}
    )
    assert again.json()["quiet_hours"] is None
    assert (await notifications.get(URL, headers=me)).json()["channels"] == ["inbox", "email"]
    # one's own only: another person still has the defaults
    assert (await notifications.get(URL, headers=someone())).json()["updated_at"] is None


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"channels": ["sms"], "email_digest": True}, {"channels.0"}),
        ({"channels": [], "email_digest": True}, {"channels"}),
        ({"channels": ["email", "email"], "email_digest": True}, {"channels"}),
        ({"channels": ["inbox"], "email_digest": True,
          "quiet_hours": {"start": "07:00", "end": "07:00"}}, {"quiet_hours"}),
        ({"channels": ["inbox"], "email_digest": True, "quiet_hours": {"start": "07:00"}},
         {"quiet_hours.end"}),
        ({"channels": ["inbox"]}, {"email_digest"}),
        ({"channels": ["inbox"], "email_digest": True, "sms": True}, {"sms"}),
    ],
)  # fmt: skip
async def test_an_invalid_body_is_a_422_naming_each_field(
    notifications: httpx.AsyncClient, body: dict[str, Any], fields: set[str]
) -> None:
    me = someone()
    response = await notifications.put(URL, headers=me, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in response.json()["errors"]} == fields
    assert (await notifications.get(URL, headers=me)).json()["updated_at"] is None


async def test_a_refusal_speaks_vietnamese_when_asked(notifications: httpx.AsyncClient) -> None:
    response = await notifications.put(
        URL,
        headers=someone() | {"Accept-Language": "vi"},
        json={"channels": ["email", "email"], "email_digest": True},
    )
    (error,) = response.json()["errors"]
    assert error["message"] == "Một kênh nhận thông báo được nêu hai lần"
    assert error["code"] == "channels.duplicate"
