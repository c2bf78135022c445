"""Who holds which role where: the people behind the tokens, for assignment and notifications.

One interface, two sources. In production the identity provider knows: :class:`KeycloakDirectory`
reads Keycloak's admin API with a service account of its own (client credentials, realm roles
``view-users`` and ``query-users`` only). The local stack and the tests read a small seeded file
(:class:`SeededDirectory`, ``deploy/local/directory.json``): synthetic people, never real ones.

A person here is an officer's ``sub`` (the token's subject), realm roles, jurisdiction codes (a
province or a ward, as in the token), an e-mail address and a language. Nothing else about them
is read, and nothing about them is written.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from libs.common.errors import DependencyUnavailable, ServiceUnavailable
from libs.common.jurisdiction import covers
from libs.common.settings import ServiceSettings

_ROOT = Path(__file__).resolve().parents[2]
# Keycloak's user ids are UUIDs; seeded subs are names like ``officer-hn-1``. Nothing else.
_SUB = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,199}")


@dataclass(frozen=True)
class Person:
    sub: str
    roles: frozenset[str]
    jurisdiction: tuple[str, ...] = ()
    email: str | None = None
    locale: str = "vi"
    enabled: bool = True
    groups: frozenset[str] = frozenset()

    def holds(self, role: str, code: str | None) -> bool:
        """Whether this person holds ``role`` over a record located at ``code``."""
        return self.enabled and role in self.roles and covers(self.jurisdiction, code)


class Directory(Protocol):
    async def person(self, sub: str) -> Person | None:
        """The person behind ``sub``; None when unknown or disabled."""
        ...

    async def holders(self, role: str, code: str | None) -> list[Person]:
        """Everyone holding ``role`` whose jurisdiction covers ``code`` (a ward or province),
        in a stable order."""
        ...

    async def members(self, group: str) -> list[Person]:
        """Everyone in ``group`` (``steering_committee``), in a stable order."""
        ...


def _person(raw: dict[str, Any]) -> Person:
    return Person(
        sub=str(raw["sub"]),
        roles=frozenset(raw.get("roles", ())),
        jurisdiction=tuple(raw.get("jurisdiction", ())),
        email=raw.get("email"),
        locale=raw.get("locale", "vi"),
        enabled=bool(raw.get("enabled", True)),
        groups=frozenset(raw.get("groups", ())),
    )


@dataclass
class SeededDirectory:
    """People listed in a JSON file: ``{"people": [{"sub", "roles", "jurisdiction", "email",
    "locale"}]}``. For the local stack and the tests; production reads the identity provider."""

    people: list[Person] = field(default_factory=list)

    @classmethod
    def from_file(cls, path: str | Path) -> SeededDirectory:
        """A relative path is read from the checkout's root, wherever the process started."""
        file = Path(path)
        if not file.is_absolute():
            file = _ROOT / file
        data = json.loads(file.read_text(encoding="utf-8"))
        return cls([_person(raw) for raw in data.get("people", [])])

    @classmethod
    def of(cls, people: Iterable[dict[str, Any]]) -> SeededDirectory:
        return cls([_person(raw) for raw in people])

    async def person(self, sub: str) -> Person | None:
        found = next((p for p in self.people if p.sub == sub), None)
        return found if found is not None and found.enabled else None

    async def holders(self, role: str, code: str | None) -> list[Person]:
        return sorted((p for p in self.people if p.holds(role, code)), key=lambda p: p.sub)

    async def members(self, group: str) -> list[Person]:
        return sorted(
            (p for p in self.people if p.enabled and group in p.groups), key=lambda p: p.sub
        )


class KeycloakDirectory:
    """Keycloak's admin REST API, read with a service account; answers are kept for ``ttl``
    seconds so that a burst of notifications is not a burst of admin calls.

    ``base_url`` is Keycloak's root (``https://sso.example.gov.vn``), ``realm`` ours (``ctip``).
    """

    PAGE = 200

    def __init__(
        self,
        base_url: str,
        realm: str,
        client_id: str,
        client_secret: str,
        *,
        ttl: float = 60.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.realm = realm
        self.client_id = client_id
        self.client_secret = client_secret
        self.ttl = ttl
        self.client = client or httpx.AsyncClient(timeout=10.0)
        self._token: tuple[str, float] | None = None
        self._role_cache: dict[str, tuple[list[Person], float]] = {}
        self._lock = asyncio.Lock()

    async def _access_token(self) -> str:
        now = time.monotonic()
        if self._token is not None and self._token[1] > now:
            return self._token[0]
        try:
            response = await self.client.post(
                f"{self.base_url}/realms/{self.realm}/protocol/openid-connect/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                },
            )
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DependencyUnavailable("the directory's token cannot be had") from exc
        lifetime = float(body.get("expires_in", 60))
        self._token = (str(body["access_token"]), now + max(lifetime - 10.0, 1.0))
        return self._token[0]

    async def _get(
        self, path: str, params: dict[str, Any] | None = None, *, missing_ok: bool = False
    ) -> Any:
        """The admin API's answer; None for a 404 when ``missing_ok``. Anything else that is not
        an answer (the provider down, slow, refusing our account) is :class:`DependencyUnavailable`:
        a 503 for a request, a retry for a consumer, never a person silently unknown."""
        token = await self._access_token()
        try:
            response = await self.client.get(
                f"{self.base_url}/admin/realms/{self.realm}{path}",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
            if missing_ok and response.status_code == 404:
                return None
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DependencyUnavailable("the directory of officers cannot be read") from exc

    @staticmethod
    def _from_user(user: dict[str, Any], roles: Iterable[str]) -> Person:
        attributes = user.get("attributes") or {}
        locale = (attributes.get("locale") or ["vi"])[0]
        return Person(
            sub=str(user["id"]),
            roles=frozenset(roles),
            jurisdiction=tuple(attributes.get("jurisdiction") or ()),
            email=user.get("email") if user.get("emailVerified", True) else None,
            locale=str(locale),
            enabled=bool(user.get("enabled", True)),
        )

    async def _role_members(self, role: str) -> list[Person]:
        async with self._lock:
            now = time.monotonic()
            cached = self._role_cache.get(role)
            if cached is not None and cached[1] > now:
                return cached[0]
            people: list[Person] = []
            first = 0
            while True:
                page = await self._get(
                    f"/roles/{role}/users",
                    {"briefRepresentation": "false", "first": first, "max": self.PAGE},
                )
                people.extend(self._from_user(user, {role}) for user in page)
                if len(page) < self.PAGE:
                    break
                first += self.PAGE
            self._role_cache[role] = (people, now + self.ttl)
            return people

    async def person(self, sub: str) -> Person | None:
        # A sub comes from a request body: never let it walk the admin API's paths.
        if not _SUB.fullmatch(sub):
            return None
        user = await self._get(f"/users/{sub}", missing_ok=True)
        if user is None:
            return None
        mappings = await self._get(f"/users/{sub}/role-mappings/realm")
        found = self._from_user(user, (m["name"] for m in mappings))
        return found if found.enabled else None

    async def holders(self, role: str, code: str | None) -> list[Person]:
        members = await self._role_members(role)
        return sorted((p for p in members if p.holds(role, code)), key=lambda p: p.sub)

    async def members(self, group: str) -> list[Person]:
        found = await self._get("/groups", {"search": group, "exact": "true"})
        match = next((g for g in found if g.get("name") == group), None)
        if match is None:
            return []
        people: list[Person] = []
        first = 0
        while True:
            page = await self._get(
                f"/groups/{match['id']}/members",
                {"briefRepresentation": "false", "first": first, "max": self.PAGE},
            )
            people.extend(self._from_user(user, ()) for user in page)
            if len(page) < self.PAGE:
                break
            first += self.PAGE
        return sorted((p for p in people if p.enabled), key=lambda p: p.sub)

    async def aclose(self) -> None:
        await self.client.aclose()


async def person_for_request(directory: Directory, sub: str) -> Person | None:
    """The person behind ``sub`` for a route (an assignment): the directory down is a 503 that
    says so, never a person taken for unknown."""
    try:
        return await directory.person(sub)
    except DependencyUnavailable as exc:
        raise ServiceUnavailable("the directory of officers cannot be reached") from exc


def directory_for(settings: ServiceSettings) -> Directory:
    """Keycloak when ``directory_url`` is set; else the seeded file, which production refuses."""
    if settings.directory_url:
        return KeycloakDirectory(
            settings.directory_url,
            settings.directory_realm,
            settings.directory_client_id,
            settings.directory_client_secret.get_secret_value(),
        )
    if settings.is_production:
        raise RuntimeError(
            "production reads officers from the identity provider: set directory_url"
        )
    return SeededDirectory.from_file(settings.directory_file)
