"""The directory of officers (``libs/common/directory.py``): the seeded file of the local stack,
and Keycloak's admin API as production reads it, against a stand-in that answers as Keycloak's
REST API does (token endpoint, role members in pages, users, role mappings, groups)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from libs.common.directory import KeycloakDirectory, Person, SeededDirectory, directory_for
from libs.common.errors import DependencyUnavailable, is_database_outage
from libs.common.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[3]
BASE = "https://sso.example.gov.vn"


def _user(uid: str, jurisdiction: list[str], *, enabled: bool = True) -> dict[str, Any]:
    return {
        "id": uid,
        "username": uid,
        "enabled": enabled,
        "email": f"{uid}@ctip.example",
        "emailVerified": True,
        "attributes": {"jurisdiction": jurisdiction, "locale": ["vi"]},
    }


class FakeKeycloak:
    """Keycloak's admin API over a few synthetic officers; counts what was asked."""

    def __init__(self, role_members: dict[str, list[dict[str, Any]]]) -> None:
        self.role_members = role_members
        self.tokens = 0
        self.calls: list[str] = []
        self.groups = {"g-1": [_user("steering-1", ["01"]), _user("gone", ["01"], enabled=False)]}

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append(path)
        if path == "/realms/ctip/protocol/openid-connect/token":
            form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
            assert form["grant_type"] == "client_credentials"
            assert form["client_id"] == "ctip-directory"
            self.tokens += 1
            return httpx.Response(200, json={"access_token": "t", "expires_in": 300})
        assert request.headers["Authorization"] == "Bearer t"
        prefix = "/admin/realms/ctip"
        assert path.startswith(prefix)
        path = path[len(prefix) :]
        first, size = (
            int(request.url.params.get("first", 0)),
            int(request.url.params.get("max", 100)),
        )
        if path.startswith("/roles/") and path.endswith("/users"):
            members = self.role_members.get(path.split("/")[2], [])
            return httpx.Response(200, json=members[first : first + size])
        if path.startswith("/users/") and path.endswith("/role-mappings/realm"):
            uid = path.split("/")[2]
            roles = [
                r
                for r, members in self.role_members.items()
                if any(u["id"] == uid for u in members)
            ]
            return httpx.Response(200, json=[{"name": r} for r in roles])
        if path.startswith("/users/"):
            uid = path.split("/")[2]
            for members in self.role_members.values():
                for user in members:
                    if user["id"] == uid:
                        return httpx.Response(200, json=user)
            return httpx.Response(404, json={"error": "User not found"})
        if path == "/groups":
            assert request.url.params["exact"] == "true"
            name = request.url.params["search"]
            found = [{"id": "g-1", "name": name}] if name == "steering_committee" else []
            return httpx.Response(200, json=found)
        if path.startswith("/groups/") and path.endswith("/members"):
            return httpx.Response(200, json=self.groups[path.split("/")[2]][first : first + size])
        return httpx.Response(404)


def _directory(fake: FakeKeycloak, **kw: Any) -> KeycloakDirectory:
    client = httpx.AsyncClient(transport=httpx.MockTransport(fake.handler))
    return KeycloakDirectory(BASE, "ctip", "ctip-directory", "s3cret", client=client, **kw)


async def test_holders_are_the_role_members_whose_jurisdiction_covers_the_place() -> None:
    fake = FakeKeycloak(
        {
            "intake_officer": [
                _user("hn-province", ["01"]),
                _user("hn-ward", ["00256"]),
                _user("other-ward", ["00001"]),
                _user("lai-chau", ["12"]),
                _user("left", ["01"], enabled=False),
            ]
        }
    )
    directory = _directory(fake)
    found = await directory.holders("intake_officer", "00256")
    assert [p.sub for p in found] == ["hn-province", "hn-ward"]
    assert found[0] == Person(
        sub="hn-province",
        roles=frozenset({"intake_officer"}),
        jurisdiction=("01",),
        email="hn-province@ctip.example",
        locale="vi",
    )
    assert [p.sub for p in await directory.holders("intake_officer", "01")] == ["hn-province"]
    assert await directory.holders("supervisor", "00256") == []


async def test_role_members_are_read_page_by_page_and_kept_for_the_ttl() -> None:
    many = [_user(f"officer-{i:03}", ["01"]) for i in range(KeycloakDirectory.PAGE + 5)]
    fake = FakeKeycloak({"investigator": many})
    directory = _directory(fake)
    assert len(await directory.holders("investigator", "01")) == KeycloakDirectory.PAGE + 5
    pages = [c for c in fake.calls if c.endswith("/roles/investigator/users")]
    assert len(pages) == 2
    await directory.holders("investigator", "00256")
    assert len([c for c in fake.calls if c.endswith("/roles/investigator/users")]) == 2
    assert fake.tokens == 1  # one token for every call while it is valid

    expired = _directory(fake, ttl=0)
    await expired.holders("investigator", "01")
    await expired.holders("investigator", "01")
    assert len([c for c in fake.calls if c.endswith("/roles/investigator/users")]) == 6


async def test_a_person_with_their_realm_roles_and_none_for_unknown_or_disabled() -> None:
    fake = FakeKeycloak(
        {
            "investigator": [_user("inv-1", ["01"]), _user("off", ["01"], enabled=False)],
            "supervisor": [_user("inv-1", ["01"])],
        }
    )
    directory = _directory(fake)
    person = await directory.person("inv-1")
    assert person is not None and person.roles == {"investigator", "supervisor"}
    assert person.holds("supervisor", "00256") and not person.holds("supervisor", "12")
    assert await directory.person("nobody") is None
    assert await directory.person("off") is None
    asked = len(fake.calls)
    for hostile in ("../roles/admin/users", "inv-1/role-mappings", "..", "", "a b", "x" * 201):
        assert await directory.person(hostile) is None, hostile
    assert len(fake.calls) == asked  # never sent to the admin API


async def test_a_group_s_enabled_members() -> None:
    directory = _directory(FakeKeycloak({}))
    assert [p.sub for p in await directory.members("steering_committee")] == ["steering-1"]
    assert await directory.members("no_such_group") == []


@pytest.mark.parametrize("trouble", ["refused", "503 on the token", "503 on the users"])
async def test_a_provider_that_cannot_answer_is_an_outage_never_an_unknown_person(
    trouble: str,
) -> None:
    """A 503 for a request and a retry without limit for a consumer (is_database_outage), so
    that a deadline event is never dead-lettered, nor its people taken for unknown."""

    def answer(request: httpx.Request) -> httpx.Response:
        if trouble == "refused":
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path.endswith("/token"):
            if trouble == "503 on the token":
                return httpx.Response(503)
            return httpx.Response(200, json={"access_token": "t", "expires_in": 300})
        return httpx.Response(503)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    directory = KeycloakDirectory(BASE, "ctip", "ctip-directory", "s", client=client)
    for call in (directory.person("inv-1"), directory.holders("investigator", "01")):
        with pytest.raises(DependencyUnavailable) as caught:
            await call
        assert is_database_outage(caught.value)
    with pytest.raises(DependencyUnavailable):
        await directory.members("steering_committee")


async def test_the_seeded_file_of_the_local_stack(tmp_path: Path) -> None:
    local = SeededDirectory.from_file("deploy/local/directory.json")  # from the checkout's root
    subs = {p.sub for p in local.people}
    assert {"officer-hn-1", "supervisor-hn-1", "steering-1"} <= subs
    assert [p.sub for p in await local.members("steering_committee")] == ["steering-1"]
    assert "officer-hn-1" in {p.sub for p in await local.holders("intake_officer", "00256")}

    path = tmp_path / "people.json"
    path.write_text(
        json.dumps(
            {
                "people": [
                    {"sub": "a", "roles": ["social_worker"], "jurisdiction": ["01"]},
                    {"sub": "b", "roles": ["social_worker"], "jurisdiction": ["01"],
                     "enabled": False},
                ]
            }
        )
    )  # fmt: skip
    seeded = SeededDirectory.from_file(path)
    assert [p.sub for p in await seeded.holders("social_worker", "00256")] == ["a"]
    assert await seeded.person("b") is None and await seeded.person("zzz") is None
    assert (await seeded.person("a")) == Person("a", frozenset({"social_worker"}), ("01",))


def test_production_reads_the_identity_provider_never_the_file() -> None:
    production = ServiceSettings.model_construct(
        environment="production", directory_url=None, directory_file="deploy/local/directory.json"
    )
    with pytest.raises(RuntimeError, match="directory_url"):
        directory_for(production)
    development = ServiceSettings.model_construct(
        environment="development",
        directory_url=None,
        directory_file=str(ROOT / "deploy/local/directory.json"),
    )
    assert isinstance(directory_for(development), SeededDirectory)
