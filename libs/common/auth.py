"""Bearer-token authentication and role/jurisdiction authorisation.

The local stack signs HS256 tokens with a development key (``uv run ctip token``); production
verifies RS256/ES256 tokens against the OIDC provider's JWKS URL and refuses HS256.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request, Security

from libs.common.errors import Forbidden, Unauthorized
from libs.common.jurisdiction import covers, is_valid_code
from libs.common.openapi import BEARER
from libs.common.settings import ServiceSettings

log = logging.getLogger("ctip.auth")


class Role(StrEnum):
    intake_officer = "intake_officer"
    investigator = "investigator"
    prosecutor = "prosecutor"
    court_clerk = "court_clerk"
    social_worker = "social_worker"
    ngo = "ngo"
    supervisor = "supervisor"
    admin = "admin"
    auditor = "auditor"


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[str]
    jurisdiction: tuple[str, ...] = ()
    org: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def covers(self, code: str | None) -> bool:
        """Whether a record located at ``code`` (ward or province) is within this principal."""
        return covers(self.jurisdiction, code)


class JwksKeys:
    """The OIDC provider's signing keys, fetched without blocking the event loop.

    ``PyJWKClient`` fetches with urllib and a 30 s timeout inside the request: a slow or absent
    provider would stall every request of the process. Here the key set is fetched with an
    async HTTP client and a short timeout, and kept:

    * a request whose ``kid`` is known never waits; a key set older than ``max_age_seconds`` is
      refreshed in the background while the old one keeps serving;
    * a request with an unknown ``kid`` (the provider rotated its key) waits for one refresh,
      but refreshes are at most one per ``min_refresh_seconds``, so tokens with made-up kids
      cannot turn the service into a client hammering the provider;
    * a failed fetch (provider down, slow, garbage) keeps the last good key set, so an outage of
      the provider does not log everyone out; it is logged and retried after the interval.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float = 3.0,
        min_refresh_seconds: float = 30.0,
        max_age_seconds: float = 300.0,
    ) -> None:
        self.url = url
        self.timeout_seconds = timeout_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self.max_age_seconds = max_age_seconds
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock: asyncio.Lock | None = None
        self._background: asyncio.Task[None] | None = None

    def key(self, kid: str | None) -> Any | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid) if kid is not None else None

    async def ensure(self, kid: str | None) -> None:
        """Make ``kid`` known if a refresh is due and allowed; never raises."""
        now = time.monotonic()
        if self.key(kid) is not None:
            stale = self._fetched_at is None or now - self._fetched_at > self.max_age_seconds
            if stale and self._may_try(now) and self._background is None:
                self._background = asyncio.create_task(self._refresh_in_background())
            return
        if self._may_try(now):
            await self.refresh()

    def _may_try(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self.min_refresh_seconds

    async def _refresh_in_background(self) -> None:
        try:
            await self.refresh()
        finally:
            self._background = None

    async def refresh(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            now = time.monotonic()
            if not self._may_try(now):
                return  # another request refreshed while this one waited
            self._attempted_at = now
            try:
                async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
                    response = await client.get(self.url, headers={"Accept": "application/json"})
                    response.raise_for_status()
                    document = response.json()
                keys = {k.key_id: k.key for k in jwt.PyJWKSet.from_dict(document).keys if k.key_id}
            except (httpx.HTTPError, ValueError, jwt.PyJWKError, TypeError) as exc:
                log.warning(
                    "JWKS fetch failed, keeping the last good key set (%d keys): %s",
                    len(self._keys),
                    type(exc).__name__,
                )
                return
            if keys:
                self._keys = keys
                self._fetched_at = now


class TokenVerifier:
    """Verifies bearer tokens, and remembers the tokens it verified.

    A client sends the same token with every request until it expires, and checking its signature
    and claims is a good part of a request's CPU. A token already verified is therefore taken from
    a bounded cache (keyed by the whole token string, so only the very same bytes hit it) until
    its ``exp``, and for no longer than ``CACHE_SECONDS`` (as long as :class:`JwksKeys` keeps the
    provider's keys before refreshing them, so a key the provider withdraws stops being trusted
    about as soon). Failures are never cached.
    """

    CACHE_SECONDS = 300.0
    CACHE_SIZE = 4096

    def __init__(self, settings: ServiceSettings, *, jwks: JwksKeys | None = None) -> None:
        self.settings = settings
        self._jwks = jwks or (JwksKeys(settings.jwt_jwks_url) if settings.jwt_jwks_url else None)
        self._verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    async def authenticate(self, token: str) -> Principal:
        """:meth:`verify`, after making sure the provider's key for the token is at hand (fetched
        off the event loop: see :class:`JwksKeys`)."""
        if self._jwks is not None and token not in self._verified:
            try:
                kid = jwt.get_unverified_header(token).get("kid")
            except jwt.PyJWTError as exc:
                raise Unauthorized(f"invalid token: {exc}") from exc
            await self._jwks.ensure(kid if isinstance(kid, str) else None)
        return self.verify(token)

    def verify(self, token: str) -> Principal:
        now = time.time()
        cached = self._verified.get(token)
        if cached is not None:
            until, principal = cached
            if now < until:
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]
        principal = self._verify(token)
        expires = principal.claims.get("exp")
        until = min(now + self.CACHE_SECONDS, float(expires) if expires is not None else now)
        if until > now:
            self._verified[token] = (until, principal)
            if len(self._verified) > self.CACHE_SIZE:
                self._verified.popitem(last=False)
        return principal

    def _verify(self, token: str) -> Principal:
        options: jwt.types.Options = {"require": ["sub", "exp"]}
        try:
            if self._jwks is not None:
                kid = jwt.get_unverified_header(token).get("kid")
                key = self._jwks.key(kid if isinstance(kid, str) else None)
                if key is None:
                    raise Unauthorized("invalid token: no known signing key for it")
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=["RS256", "ES256", "PS256"],
                    audience=self.settings.jwt_audience,
                    issuer=self.settings.jwt_issuer,
                    options=options,
                )
            else:
                claims = jwt.decode(
                    token,
                    self.settings.jwt_secret.get_secret_value(),
                    algorithms=["HS256"],
                    audience=self.settings.jwt_audience,
                    issuer=self.settings.jwt_issuer,
                    options=options,
                )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc
        return principal_from_claims(claims)


SCOPED_ROLES = frozenset(
    {
        Role.intake_officer,
        Role.investigator,
        Role.prosecutor,
        Role.court_clerk,
        Role.social_worker,
        Role.supervisor,
    }
)
"""Roles whose every read and action is limited to the token's jurisdiction: such a token with no
valid code is refused. ``admin`` (the partner registry, NGO programs, ward populations) and
``auditor`` (the audit log, which must be read across the country to be audited at all) work
nationally by design and hold no personal record through a jurisdiction; ``ngo`` is scoped by its
``org``. A token of theirs may carry no jurisdiction, but never an unknown code."""


def _jurisdiction_codes(claim: Any, roles: frozenset[str]) -> tuple[str, ...]:
    """The token's administrative codes, all valid, or a 401.

    A code we do not know is refused rather than dropped: a typo or a code retired by the 2025
    reform would otherwise leave a token that silently sees less (or, were an empty list ever
    read as "no filter", everything). A scoped role with no code at all is refused likewise."""
    if claim is None or claim == "":
        codes: list[Any] = []
    elif isinstance(claim, str):
        codes = [claim]
    elif isinstance(claim, list):
        codes = claim
    else:
        raise Unauthorized("invalid token: jurisdiction must be a list of administrative codes")
    if any(not isinstance(c, str) or not is_valid_code(c) for c in codes):
        raise Unauthorized("invalid token: the jurisdiction holds a code that is not known")
    if not codes and roles.intersection(SCOPED_ROLES):
        raise Unauthorized("invalid token: this role needs a jurisdiction (province or ward codes)")
    return tuple(dict.fromkeys(codes))


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    realm = claims.get("realm_access")
    roles = claims.get("roles") or (realm.get("roles") if isinstance(realm, dict) else None) or []
    if not isinstance(roles, list):
        raise Unauthorized("invalid token: roles and jurisdiction must be lists")
    known = {r.value for r in Role}
    held = frozenset(r for r in roles if isinstance(r, str) and r in known)
    return Principal(
        sub=str(claims["sub"]),
        roles=held,
        jurisdiction=_jurisdiction_codes(claims.get("jurisdiction"), held),
        org=claims.get("org"),
        claims=claims,
    )


def issue_dev_token(
    settings: ServiceSettings,
    *,
    roles: Iterable[str],
    jurisdiction: Iterable[str] = (),
    org: str | None = None,
    sub: str = "dev-user",
    ttl_seconds: int = 12 * 3600,
) -> str:
    """A token for the local stack, signed with the development HS256 key."""
    if settings.is_production:
        raise RuntimeError("development tokens are not issued in production")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "roles": list(roles),
        "jurisdiction": list(jurisdiction),
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if org:
        claims["org"] = org
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("use `Authorization: Bearer <token>`")
    return token.strip()


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier


async def optional_principal(
    request: Request, _documented: Annotated[Any, Security(BEARER)] = None
) -> Principal | None:
    """The caller if a token is sent (and valid), else None: for the public endpoints."""
    token = _bearer(request)
    return None if token is None else await _verifier(request).authenticate(token)


async def current_principal(
    request: Request, _documented: Annotated[Any, Security(BEARER)] = None
) -> Principal:
    token = _bearer(request)
    if token is None:
        raise Unauthorized("a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    return await _verifier(request).authenticate(token)


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through callers holding at least one of ``roles`` (else 403)."""
    allowed = {r.value for r in roles}

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.roles.intersection(allowed):
            raise Forbidden(f"requires one of the roles: {', '.join(sorted(allowed))}")
        return principal

    return dependency
