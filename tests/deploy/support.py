"""What the deployment files are checked against: the services and settings in the code."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from libs.common.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S_BASE = DEPLOY / "k8s" / "base"
K8S_PRODUCTION = DEPLOY / "k8s" / "overlays" / "production"
ROLES = ("serve", "worker", "migrate")
# what an API in a container must listen on to be reachable at all
ALL_INTERFACES = "0.0.0.0"  # noqa: S104


@cache
def services() -> tuple[str, ...]:
    """Every service of the repository: a package under services/ with an app.py."""
    return tuple(sorted(p.parent.name for p in (ROOT / "services").glob("*/app.py")))


def dns_name(service: str) -> str:
    return service.replace("_", "-")


@cache
def settings_class(service: str) -> type[ServiceSettings]:
    from deploy.gen_config_reference import settings_class as find

    return find(service)


def field_names(cls: type[ServiceSettings]) -> set[str]:
    return {name.upper() for name in cls.model_fields}


def readable_by(variable: str, service: str) -> bool:
    """Whether ``service`` reads ``variable``: CTIP_<SERVICE>_<NAME> or CTIP_<NAME>."""
    cls = settings_class(service)
    names = field_names(cls)
    prefix = str(cls.model_config["env_prefix"])
    if variable.startswith(prefix) and variable.removeprefix(prefix) in names:
        return True
    return variable.startswith("CTIP_") and variable.removeprefix("CTIP_") in names


def is_setting(variable: str) -> bool:
    return any(readable_by(variable, s) for s in services())


def secret_settings() -> set[str]:
    """Env vars whose value is a secret: the SecretStr fields and the database URLs."""
    names = {
        f"CTIP_{name.upper()}"
        for name, field in ServiceSettings.model_fields.items()
        if field.annotation is SecretStr
    }
    return names | {"CTIP_DATABASE_URL", "CTIP_MIGRATION_DATABASE_URL"}


def readme_ports() -> dict[str, int]:
    """The README's table: `| intake (...) | http://127.0.0.1:8001/docs |`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.findall(r"^\| (\w+) \(.*?\| http://127\.0\.0\.1:(\d+)/docs \|$", text, re.M)
    return {name: int(port) for name, port in found}


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not KEY=value: {line!r}"
            values[key.strip()] = value.strip()
    return values


@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def compose_services() -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose()["services"]
    return result


def ctip_role(definition: dict[str, Any]) -> tuple[str, str] | None:
    """("serve", "intake") for a container running `ctip serve intake ...`, else None."""
    command = definition.get("command")
    if isinstance(command, list) and len(command) >= 2 and command[0] in ROLES:
        return command[0], command[1]
    return None


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    docs = yaml.safe_load_all(path.read_text(encoding="utf-8"))
    return [d for d in docs if d]


def nginx_locations(path: Path) -> dict[str, str]:
    """`location` (exact ones as "= /x") → its body, for a config without nested blocks."""
    text = path.read_text(encoding="utf-8")
    text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    found = re.findall(r"location\s+(=\s*)?(\S+)\s*\{([^{}]*)\}", text)
    return {("= " if exact else "") + where: body for exact, where, body in found}


def nginx_route(location: str, body: str) -> tuple[str, int, str] | None:
    """(host, port, the upstream path that ``location`` maps to) of a proxying location.

    Understands the two forms the gateways use: ``proxy_pass http://host:port/uri;`` and
    ``set $upstream host:port; rewrite ^/prefix/v1/(.*)$ /v1/$1 break; proxy_pass http://$upstream;``.
    """
    proxy = re.search(r"proxy_pass\s+http://([^;\s]+)\s*;", body)
    if proxy is None:
        return None
    target = proxy.group(1)
    mapped = location.removeprefix("= ")
    if target.startswith("$"):
        variable = re.search(r"set\s+\$" + re.escape(target[1:]) + r"\s+([^;\s]+)\s*;", body)
        assert variable, f"proxy_pass to an unset variable {target}"
        target = variable.group(1)
        rewrite = re.search(r"rewrite\s+\^(\S+?)\(\.\*\)\$\s+(/\S*?)\$1\s+break\s*;", body)
        if rewrite and mapped.startswith(rewrite.group(1)):
            # a prefix location, or a path under it (``= /notifications/v1/notifications/stream``)
            mapped = rewrite.group(2) + mapped.removeprefix(rewrite.group(1))
    hostport, slash, uri = target.partition("/")
    if slash:
        mapped = "/" + uri
    host, _, port = hostport.partition(":")
    return host, int(port or 80), mapped


# Variables that would put a person next to their request in a log line: the client's address
# (also as the proxies report it), the request line, URI and query, and the browser.
PERSONAL_LOG_VARIABLES = (
    "$remote_addr",
    "$binary_remote_addr",
    "$realip_remote_addr",
    "$http_x_forwarded_for",
    "$proxy_add_x_forwarded_for",
    "$http_x_real_ip",
    "$request",
    "$request_uri",
    "$uri",
    "$document_uri",
    "$args",
    "$query_string",
    "$is_args",
    "$http_user_agent",
    "$http_referer",
    "$http_cookie",
)


def nginx_logging(path: Path) -> tuple[dict[str, str], list[str], list[str]]:
    """(log_format name → its format text, the access_log directives, the error_log directives)."""
    text = path.read_text(encoding="utf-8")
    text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    formats = {
        name: "".join(re.findall(r"'([^']*)'", body))
        for name, body in re.findall(r"log_format\s+(\S+)\s+((?:[^;']|'[^']*')*);", text)
    }
    access = [d.strip() for d in re.findall(r"access_log\s+([^;]+);", text)]
    errors = [d.strip() for d in re.findall(r"error_log\s+([^;]+);", text)]
    return formats, access, errors
