"""Generate the configuration and topic references of docs/operations.md from the code.

    uv run python deploy/gen_config_reference.py            # print both references
    uv run python deploy/gen_config_reference.py --write    # rewrite them in docs/operations.md

The settings come from ``ServiceSettings`` and each ``services/<name>/settings.py``; the topics
from the event contracts (``libs.contracts.PAYLOADS``, every type an outbox may write) and each
service's consumer handlers. tests/deploy fails when the document is out of date.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import json
import os
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from libs.common.events import dlt_topic, topic_for  # noqa: E402
from libs.common.kafka import DEFAULT_PARTITIONS  # noqa: E402
from libs.common.settings import DEV_INDEX_KEY, ServiceSettings  # noqa: E402

DOC = ROOT / "docs" / "operations.md"
SECRET_DEFAULT = "(development key — set in production)"  # noqa: S105 (a label)
SETTINGS_MARKERS = ("<!-- BEGIN settings reference -->", "<!-- END settings reference -->")
TOPICS_MARKERS = ("<!-- BEGIN topics reference -->", "<!-- END topics reference -->")


def services() -> list[str]:
    """Every service of the repository: a package under services/ with an app.py."""
    return sorted(p.parent.name for p in (ROOT / "services").glob("*/app.py"))


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    found = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, ServiceSettings)
        and obj is not ServiceSettings
        and obj.__module__ == module.__name__
    ]
    if len(found) != 1:
        raise LookupError(f"services/{service}/settings.py: expected one settings class")
    return found[0]


def env_prefix(cls: type[BaseSettings]) -> str:
    return str(cls.model_config.get("env_prefix", ""))


def own_fields(cls: type[ServiceSettings]) -> dict[str, FieldInfo]:
    """The fields a service class adds (itself or through a mixin such as ``RollupSettings``)
    or whose default it changes."""
    if cls is ServiceSettings:
        return dict(cls.model_fields)
    shared = ServiceSettings.model_fields
    return {
        name: f
        for name, f in cls.model_fields.items()
        if name in cls.__annotations__ or name not in shared
    }


def type_name(annotation: Any) -> str:
    if annotation is SecretStr:
        return "secret"
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(type_name(a) for a in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(type_name(a) for a in typing.get_args(annotation))
        return f"{origin.__name__}[{args}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


@contextlib.contextmanager
def documented_ports() -> Iterator[None]:
    """The defaults as a fresh machine has them: a second stack's CTIP_PG_PORT or CTIP_KAFKA_PORT
    moves the local defaults, never the reference."""
    moved = {name: os.environ.pop(name) for name in LOCAL_PORTS if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(moved)


LOCAL_PORTS = ("CTIP_PG_PORT", "CTIP_KAFKA_PORT")


def default_text(field: FieldInfo) -> str:
    with documented_ports():
        value = field.get_default(call_default_factory=True)
    if field.annotation is SecretStr:
        # an empty secret is no key anyone could read here: it is unset, and shown as such
        empty = isinstance(value, SecretStr) and value.get_secret_value() == ""
        return '`""`' if empty else SECRET_DEFAULT
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return f"`{json.dumps(value)}`"
    if value == "":
        return '`""`'
    return f"`{value}`"


def description(cls: type[ServiceSettings], name: str) -> str:
    for klass in cls.__mro__:
        fields = getattr(klass, "model_fields", {})
        if name in fields and fields[name].description:
            return str(fields[name].description)
    return ""


def _row(env: str, cls: type[ServiceSettings], name: str, field: FieldInfo) -> str:
    text = description(cls, name).replace("|", "\\|")
    return f"| `{env}` | {type_name(field.annotation)} | {default_text(field)} | {text} |"


def settings_reference() -> str:
    header = ["| env var | type | default | description |", "| --- | --- | --- | --- |"]
    lines = [
        "### Every service (`CTIP_<NAME>`)",
        "",
        "Shared by every service; any of them can be set for one service only as",
        "`CTIP_<SERVICE>_<NAME>` (e.g. `CTIP_INTAKE_DB_POOL_SIZE`), which wins over `CTIP_<NAME>`.",
        "",
        *header,
    ]
    for name, field in ServiceSettings.model_fields.items():
        lines.append(
            _row(f"{env_prefix(ServiceSettings)}{name.upper()}", ServiceSettings, name, field)
        )
    for service in services():
        cls = settings_class(service)
        prefix = env_prefix(cls)
        lines += [
            "",
            f"### {service} (`{prefix}<NAME>`, `{cls.__module__}.{cls.__name__}`)",
            "",
            *header,
        ]
        for name, field in own_fields(cls).items():
            lines.append(_row(f"{prefix}{name.upper()}", cls, name, field))
    return "\n".join(lines)


def _handler_factory_args(service: str) -> dict[str, Any]:
    settings = settings_class(service)()
    from libs.common.crypto import BlindIndex

    known: dict[str, Any] = {"index": BlindIndex.from_b64(DEV_INDEX_KEY), "settings": settings}
    if hasattr(settings, "stage_rules"):
        known["rules"] = settings.stage_rules()
    return known


def consumed_types(service: str) -> list[str]:
    """The event types a service's consumers handle (HANDLERS, or what handlers(...) returns)."""
    try:
        module = importlib.import_module(f"services.{service}.consumers")
    except ModuleNotFoundError:
        return []
    if hasattr(module, "HANDLERS"):
        return sorted(module.HANDLERS)
    factory = module.handlers
    known = _handler_factory_args(service)
    params = inspect.signature(factory).parameters
    missing = [p for p in params if p not in known]
    if missing:
        raise LookupError(f"services/{service}/consumers.py handlers(): unknown {missing}")
    return sorted(factory(**{p: known[p] for p in params}))


def topics() -> dict[str, dict[str, set[str]]]:
    from libs.contracts import PAYLOADS

    table: dict[str, dict[str, set[str]]] = {}
    for short in PAYLOADS:
        entry = table.setdefault(topic_for(short), {"types": set(), "consumers": set()})
        entry["types"].add(short)
    for service in services():
        for short in consumed_types(service):
            entry = table.setdefault(topic_for(short), {"types": set(), "consumers": set()})
            entry["consumers"].add(service)
    return table


def topics_reference() -> str:
    lines = [
        f"Partitions: {DEFAULT_PARTITIONS} each (`libs/common/kafka.py` `DEFAULT_PARTITIONS`;",
        "consumers create their topics and `.dlt` topics with it, the broker's `num.partitions`",
        "should match for topics a relay writes first). Key: the aggregate id. Consumer group:",
        "the consuming service's name.",
        "",
        "| topic | producer | event types | consumers (group) | dead letters |",
        "| --- | --- | --- | --- | --- |",
    ]
    for topic, entry in sorted(topics().items()):
        producer = topic.split(".", 1)[0]
        kinds = ", ".join(f"`{t.split('.', 2)[2]}`" for t in sorted(entry["types"]))
        consumers = ", ".join(sorted(entry["consumers"])) or "— (none yet)"
        dlt = f"`{dlt_topic(topic)}`" if entry["consumers"] else "—"
        lines.append(f"| `{topic}` | {producer} | {kinds} | {consumers} | {dlt} |")
    return "\n".join(lines)


def splice(document: str, markers: tuple[str, str], body: str) -> str:
    begin, end = markers
    head, rest = document.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}\n{end}{tail}"


def render(document: str) -> str:
    document = splice(document, SETTINGS_MARKERS, settings_reference())
    return splice(document, TOPICS_MARKERS, topics_reference())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"update {DOC.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if args.write:
        DOC.write_text(render(DOC.read_text(encoding="utf-8")), encoding="utf-8")
        return 0
    print(settings_reference())
    print()
    print(topics_reference())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
