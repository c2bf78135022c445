"""The identity provider of the compose stack: the parts of Keycloak that ctip reads, served from
files the test writes. Production reads officers only from the identity provider (a seeded file is
refused there), so the stack needs one that answers as Keycloak does:

* ``GET /realms/<realm>/protocol/openid-connect/certs``: the key set the test signs tokens with;
* ``POST /realms/<realm>/protocol/openid-connect/token``: the client-credentials grant of the
  directory's confidential client (its secret checked), an opaque access token;
* ``/admin/realms/<realm>/...`` with that token: a user, their realm roles, a role's users, a
  group by name and its members (``libs/common/directory.py`` ``KeycloakDirectory``).

The people are the test's officers, in the seeded file's format (``deploy/local/directory.json``).
The container runs this file with the image's interpreter and the standard library only:
``python /idp/idp.py <port> <data directory>`` with ``IDP_CLIENT_ID`` and ``IDP_CLIENT_SECRET``.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import secrets
import shutil
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REALM = "ctip"
PORT = 8080
HOST = "sso"  # its name in the stack's network
DIRECTORY_URL = f"http://{HOST}:{PORT}"
ISSUER = f"{DIRECTORY_URL}/realms/{REALM}"
CERTS = f"/realms/{REALM}/protocol/openid-connect/certs"
JWKS_URL = f"{DIRECTORY_URL}{CERTS}"
CLIENT_ID = "ctip-directory"


def user_of(person: dict[str, Any]) -> dict[str, Any]:
    """A person of the seeded file as Keycloak's admin API represents a user."""
    return {
        "id": person["sub"],
        "username": person["sub"],
        "enabled": person.get("enabled", True),
        "email": person.get("email"),
        "emailVerified": True,
        "attributes": {
            "jurisdiction": list(person.get("jurisdiction", [])),
            "locale": [person.get("locale", "vi")],
        },
    }


class Directory:
    def __init__(self, people: list[dict[str, Any]], client_id: str, secret: str) -> None:
        self.people = {p["sub"]: p for p in people}
        self.client_id = client_id
        self.secret = secret
        self.tokens: set[str] = set()

    def grant(self, form: dict[str, list[str]]) -> tuple[int, Any]:
        def one(name: str) -> str:
            return (form.get(name) or [""])[0]

        if one("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if one("client_id") != self.client_id or not hmac.compare_digest(
            one("client_secret").encode(), self.secret.encode()
        ):
            return 401, {"error": "unauthorized_client"}
        token = secrets.token_urlsafe(32)
        self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": 300, "token_type": "Bearer"}

    def admin(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        first = int((query.get("first") or ["0"])[0])
        size = int((query.get("max") or ["100"])[0])

        def page(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
            ordered = sorted(people, key=lambda p: str(p["sub"]))
            return [user_of(p) for p in ordered[first : first + size]]

        if found := re.fullmatch(r"/users/([^/]+)", path):
            person = self.people.get(found.group(1))
            return (200, user_of(person)) if person else (404, {"error": "User not found"})
        if found := re.fullmatch(r"/users/([^/]+)/role-mappings/realm", path):
            person = self.people.get(found.group(1))
            if person is None:
                return 404, {"error": "User not found"}
            return 200, [{"name": role} for role in person.get("roles", [])]
        if found := re.fullmatch(r"/roles/([^/]+)/users", path):
            role = found.group(1)
            return 200, page([p for p in self.people.values() if role in p.get("roles", [])])
        if path == "/groups":
            wanted = (query.get("search") or [""])[0]
            names = {g for p in self.people.values() for g in p.get("groups", [])}
            return 200, [{"id": f"group-{n}", "name": n} for n in sorted(names) if n == wanted]
        if found := re.fullmatch(r"/groups/group-([^/]+)/members", path):
            group = found.group(1)
            return 200, page([p for p in self.people.values() if group in p.get("groups", [])])
        return 404, {"error": "not found"}


def handler(directory: Directory, jwks: bytes) -> type[BaseHTTPRequestHandler]:
    realm = f"/realms/{REALM}"
    admin = f"/admin/realms/{REALM}"

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: Any) -> None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == CERTS:
                self._send(200, jwks)
                return
            if not url.path.startswith(f"{admin}/"):
                self._send(404, {"error": "not found"})
                return
            bearer = self.headers.get("authorization", "").removeprefix("Bearer ")
            if bearer not in directory.tokens:
                self._send(401, {"error": "HTTP 401 Unauthorized"})
                return
            self._send(*directory.admin(url.path.removeprefix(admin), parse_qs(url.query)))

        def do_POST(self) -> None:
            if urlsplit(self.path).path != f"{realm}/protocol/openid-connect/token":
                self._send(404, {"error": "not found"})
                return
            length = int(self.headers.get("content-length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            self._send(*directory.grant(form))

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def prepare(directory: Path, jwks: dict[str, Any], people: list[dict[str, Any]]) -> Path:
    """The container's files: this script, the key set and the people, readable by its user."""
    directory.mkdir(parents=True)
    shutil.copyfile(__file__, directory / "idp.py")
    (directory / "jwks.json").write_text(json.dumps(jwks))
    (directory / "directory.json").write_text(json.dumps({"people": people}))
    directory.chmod(0o755)
    for path in directory.iterdir():
        path.chmod(0o644)
    return directory


def compose_service(image: str, directory: Path, secret: str) -> dict[str, Any]:
    """The ``sso`` service of the stack's override file."""
    probe = f"import urllib.request as u; u.urlopen('http://127.0.0.1:{PORT}{CERTS}', timeout=3)"
    return {
        "image": image,
        "user": "10001:10001",
        "read_only": True,
        "entrypoint": ["python", "/idp/idp.py", str(PORT), "/idp"],
        "environment": {"IDP_CLIENT_ID": CLIENT_ID, "IDP_CLIENT_SECRET": secret},
        "volumes": [f"{directory}:/idp:ro"],
        "healthcheck": {"test": ["CMD", "python", "-c", probe], "interval": "5s", "retries": 10},
    }


def main(argv: list[str]) -> None:
    port, data = int(argv[1]), Path(argv[2])
    people = json.loads((data / "directory.json").read_text())["people"]
    directory = Directory(people, os.environ["IDP_CLIENT_ID"], os.environ["IDP_CLIENT_SECRET"])
    jwks = (data / "jwks.json").read_bytes()
    ThreadingHTTPServer(("0.0.0.0", port), handler(directory, jwks)).serve_forever()  # noqa: S104


if __name__ == "__main__":
    main(sys.argv)
