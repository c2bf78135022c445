"""``uv run ctip ...``: tokens for the local stack, migrations, revisions.

ctip token --role intake_officer --jurisdiction 01 [--org ORG] [--sub SUB]
ctip token --client ngo-hoa-sen         (an NGO system's token, as Keycloak's client credentials)
ctip migrate [service ...]              (as the owner; then grants the runtime role)
ctip audit verify [service ...]         (exit 1 names the first broken entry)
ctip rollups check|fold|backfill [service ...]  (the figures' rollups against a recount, exit 1
                                        on a difference; folded; rebuilt from a recount)
ctip revision SERVICE -m "message"      (autogenerate against the local database)
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from libs.common.auth import SCOPED_ROLES, Role, issue_dev_token
from libs.common.jurisdiction import is_valid_code
from libs.common.settings import ServiceSettings, asyncpg_url

REALM_FILE = Path(__file__).resolve().parents[2] / "deploy" / "keycloak" / "ctip-realm.json"


class UnknownClient(ValueError):
    """No confidential client of that id, with a service account, in the realm file."""


@dataclass(frozen=True)
class ServiceAccount:
    """What Keycloak puts in a client-credentials token of one client of the realm file."""

    client_id: str
    roles: tuple[str, ...]
    org: str | None

    @property
    def sub(self) -> str:
        return f"service-account-{self.client_id}"


def service_account(client_id: str, realm_file: Path = REALM_FILE) -> ServiceAccount:
    """The client ``client_id`` of the realm file: its service account's realm roles (those the
    services know) and the ``org`` its hardcoded-claim mapper puts in its tokens."""
    realm: dict[str, Any] = json.loads(realm_file.read_text(encoding="utf-8"))
    clients = [
        c
        for c in realm.get("clients", [])
        if c.get("clientId") == client_id
        and c.get("serviceAccountsEnabled") is True
        and c.get("publicClient") is False
    ]
    if not clients:
        known = sorted(
            c["clientId"] for c in realm.get("clients", []) if c.get("serviceAccountsEnabled")
        )
        raise UnknownClient(
            f"no client {client_id!r} with a service account in {realm_file.name}"
            f" (known: {', '.join(known) or 'none'})"
        )
    (client,) = clients
    accounts = [u for u in realm.get("users", []) if u.get("serviceAccountClientId") == client_id]
    known_roles = {r.value for r in Role}
    roles = tuple(
        r
        for a in accounts
        for r in a.get("realmRoles", [])
        if isinstance(r, str) and r in known_roles
    )
    if not roles:
        raise UnknownClient(f"client {client_id!r} has a service account with no role of ctip")
    orgs = [
        m.get("config", {}).get("claim.value")
        for m in client.get("protocolMappers", [])
        if m.get("protocolMapper") == "oidc-hardcoded-claim-mapper"
        and m.get("config", {}).get("claim.name") == "org"
    ]
    org = orgs[0] if orgs and isinstance(orgs[0], str) and orgs[0] else None
    if Role.ngo.value in roles and org is None:
        raise UnknownClient(f"client {client_id!r} has the ngo role but no org claim mapper")
    return ServiceAccount(client_id=client_id, roles=roles, org=org)


def client_token(
    settings: ServiceSettings,
    client_id: str,
    *,
    realm_file: Path = REALM_FILE,
    ttl_seconds: int = 300,
) -> str:
    """For the local stack, the token Keycloak gives ``client_id`` for the client credentials
    grant: ``sub`` its service account, its roles, its ``org``, ``azp``/``client_id`` the client,
    no jurisdiction. Only for clients of the realm file (else :class:`UnknownClient`), and never
    in production (:func:`issue_dev_token` refuses)."""
    account = service_account(client_id, realm_file)
    scoped = sorted(set(account.roles) & {r.value for r in SCOPED_ROLES})
    if scoped:
        raise UnknownClient(f"client {client_id!r} holds {', '.join(scoped)}: no jurisdiction")
    token = issue_dev_token(
        settings, roles=account.roles, org=account.org, sub=account.sub, ttl_seconds=ttl_seconds
    )
    # The same iss, aud, iat and exp as any development token, plus what marks a client's.
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    claims.pop("jurisdiction", None)
    claims.update(azp=client_id, client_id=client_id)
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def _token(args: argparse.Namespace) -> int:
    if args.client is not None:
        if args.role or args.jurisdiction or args.org or args.sub is not None:
            print(
                "--client takes its roles, org and subject from the realm file:"
                " drop --role, --jurisdiction, --org and --sub",
                file=sys.stderr,
            )
            return 2
        try:
            print(
                client_token(
                    ServiceSettings(),
                    args.client,
                    realm_file=args.realm,
                    ttl_seconds=args.ttl if args.ttl is not None else 300,
                )
            )
        except (UnknownClient, OSError, ValueError, RuntimeError) as exc:
            print(exc, file=sys.stderr)
            return 2
        return 0
    if not args.role:
        print("give --role ROLE (a person) or --client CLIENT_ID (an NGO system)", file=sys.stderr)
        return 2
    bad = [j for j in args.jurisdiction if not is_valid_code(j)]
    if bad:
        print(f"unknown administrative code(s): {', '.join(bad)}", file=sys.stderr)
        return 2
    scoped = sorted(set(args.role) & {r.value for r in SCOPED_ROLES})
    if scoped and not args.jurisdiction:
        print(
            f"{', '.join(scoped)} act only within a jurisdiction: add --jurisdiction CODE"
            " (a province such as 01, or a ward such as 00256)",
            file=sys.stderr,
        )
        return 2
    print(
        issue_dev_token(
            ServiceSettings(),
            roles=args.role,
            jurisdiction=args.jurisdiction,
            org=args.org,
            sub=args.sub if args.sub is not None else "dev-user",
            ttl_seconds=args.ttl if args.ttl is not None else 12 * 3600,
        )
    )
    return 0


def _migrate(args: argparse.Namespace) -> int:
    """As the owner (``migration_database_url``), then the runtime role of ``database_url``
    granted what a service needs; both URLs naming one role is refused in production."""
    from libs.common.migrations import migrate, runtime_role, services_with_migrations

    settings = ServiceSettings()
    settings.check_production()  # migrations re-encrypt with the field keys: never dev keys
    owner_url = asyncpg_url(
        args.database_url or settings.migration_database_url or settings.database_url
    )
    if settings.is_production and runtime_role(owner_url, settings.database_url) is None:
        print(
            "production runs the services as their own role: set CTIP_MIGRATION_DATABASE_URL"
            " (the schemas' owner) and CTIP_DATABASE_URL (the runtime role) to different roles",
            file=sys.stderr,
        )
        return 2
    for service in args.services or services_with_migrations():
        role = migrate(service, owner_url, settings.database_url)
        print(f"{service}: at head" + (f", {role} granted" if role else ""))
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    """Every link of each service's audit chain recomputed with the audit key; exit 1 names
    the first entry that does not hold. Reads only: the runtime role is enough."""
    from sqlalchemy.exc import SQLAlchemyError

    from libs.common.audit import audit_key_from_b64, configure_audit_key
    from libs.common.db import Database
    from libs.common.platform import platform_of

    settings = ServiceSettings()
    configure_audit_key(audit_key_from_b64(settings.audit_key.get_secret_value()))
    services = args.services or list(SERVICES)
    unknown = sorted(set(services) - set(SERVICES))
    if unknown:
        print(f"unknown service(s): {', '.join(unknown)}", file=sys.stderr)
        return 2

    async def verify() -> int:
        broken = 0
        db = Database(asyncpg_url(args.database_url or settings.database_url), pool_size=1)
        try:
            for service in services:
                models = importlib.import_module(f"services.{service}.models")
                audit = platform_of(models.metadata).audit
                try:
                    async with db.sessions() as session, session.begin():
                        report = await audit.verify_chain(session)
                except (OSError, SQLAlchemyError) as exc:
                    broken += 1
                    print(f"{service}: cannot verify ({type(exc).__name__}: {exc.args[0]!s:.200})")
                    continue
                if report.ok:
                    print(f"{service}: ok, {report.entries} entries")
                else:
                    broken += 1
                    print(
                        f"{service}: BROKEN at seq {report.first_broken_seq}"
                        f" (entry {report.entries}): {report.reason}"
                    )
        finally:
            await db.dispose()
        return 1 if broken else 0

    return asyncio.run(verify())


def _rollups(args: argparse.Namespace) -> int:
    """``check`` (exit 1 on a difference from a recount), ``fold`` or ``backfill`` the rollups
    of the services that keep them (``libs/common/rollups.py``)."""
    from libs.common.rollup_ops import run

    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        print(f"unknown service(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    settings = ServiceSettings()
    url = args.database_url or settings.migration_database_url or settings.database_url
    return asyncio.run(run(args.action, args.services or list(SERVICES), asyncpg_url(url)))


def _revision(args: argparse.Namespace) -> int:
    from alembic import command

    from libs.common.migrations import alembic_config

    config = alembic_config(args.service, ServiceSettings().database_url)
    command.revision(config, message=args.message, autogenerate=True)
    return 0


SERVICES = ("intake", "casework", "victim_support", "interagency", "outreach", "notifications")
_WORKER_SWITCHES = {
    "relay": "CTIP_RUN_RELAY",
    "consumers": "CTIP_RUN_CONSUMERS",
    "delivery": "CTIP_INTERAGENCY_RUN_DELIVERY_WORKER",
}


GRACEFUL_SHUTDOWN_SECONDS = 5


def _create_app(service: str) -> Any:
    module = importlib.import_module(f"services.{service}.app")
    return module.create_app()


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.api_only:
        for variable in _WORKER_SWITCHES.values():
            os.environ[variable] = "false"
    app = _create_app(args.service)
    port = args.port or app.state.settings.http_port
    # An open event stream (notifications) never ends by itself: after SIGTERM the server waits
    # this long, then closes what is left; clients resume with Last-Event-ID.
    uvicorn.run(
        app,
        host=args.host,
        port=port,
        proxy_headers=True,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    """The service's lifespan without HTTP: relay, consumers, sender, until SIGTERM or Ctrl-C."""
    if args.only:
        for name, variable in _WORKER_SWITCHES.items():
            os.environ[variable] = "true" if name == args.only else "false"
    app = _create_app(args.service)
    if args.metrics_port:
        # The worker has no HTTP API: its gauges (relay, consumers, audit chain) are scraped here.
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr=args.metrics_host)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with app.router.lifespan_context(app):
            await stop.wait()

    try:  # the event loop uvicorn gives the APIs (uvicorn[standard] installs it)
        import uvloop
    except ImportError:
        asyncio.run(run())
    else:
        uvloop.run(run())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ctip")
    sub = parser.add_subparsers(dest="command", required=True)

    token = sub.add_parser("token", help="print a token accepted by the local stack")
    token.add_argument("--role", action="append", default=[], choices=[r.value for r in Role])
    token.add_argument("--jurisdiction", action="append", default=[], help="province or ward code")
    token.add_argument("--org", help="organisation id (for the ngo role)")
    token.add_argument("--sub", default=None, help="subject (user id; default dev-user)")
    token.add_argument(
        "--client",
        help="an NGO system: the client-credentials token of this client of the realm file",
    )
    token.add_argument("--realm", type=Path, default=REALM_FILE, help=argparse.SUPPRESS)
    token.add_argument(
        "--ttl", type=int, default=None, help="lifetime in seconds (default 12 h; --client 300 s)"
    )
    token.set_defaults(func=_token)

    migrate = sub.add_parser("migrate", help="upgrade service schemas to head")
    migrate.add_argument("services", nargs="*")
    migrate.add_argument("--database-url")
    migrate.set_defaults(func=_migrate)

    audit = sub.add_parser("audit", help="the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="verify each service's audit chain (exit 0/1)")
    verify.add_argument("services", nargs="*", metavar="service", help="default: all six")
    verify.add_argument("--database-url")
    verify.set_defaults(func=_audit_verify)

    rollups = sub.add_parser("rollups", help="the figures' rollups: check, fold, backfill")
    rollups.add_argument("action", choices=["check", "fold", "backfill"])
    rollups.add_argument("services", nargs="*")
    rollups.add_argument("--database-url", default=None)
    rollups.set_defaults(func=_rollups)

    revision = sub.add_parser("revision", help="autogenerate a migration for one service")
    revision.add_argument("service")
    revision.add_argument("-m", "--message", required=True)
    revision.set_defaults(func=_revision)

    serve = sub.add_parser("serve", help="run a service's API")
    serve.add_argument("service", choices=SERVICES)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: the service's http_port")
    serve.add_argument(
        "--api-only", action="store_true", help="no relay, consumers or sender in this process"
    )
    serve.set_defaults(func=_serve)

    worker = sub.add_parser("worker", help="run a service's relay, consumers and sender")
    worker.add_argument("service", choices=SERVICES)
    worker.add_argument("--only", choices=sorted(_WORKER_SWITCHES), help="just one of them")
    worker.add_argument(
        "--metrics-port", type=int, default=0, help="serve Prometheus /metrics here (0: no)"
    )
    worker.add_argument("--metrics-host", default="127.0.0.1")
    worker.set_defaults(func=_worker)

    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
