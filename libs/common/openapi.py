"""The OpenAPI document as client generators want it: operation ids that are the route's name
(``create_tip``, not ``create_tip_v1_tips_post``), the bearer scheme on the operations that read a
token, and on each operation only the problem responses it can give."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import BaseModel

from libs.common.errors import PROBLEM_JSON
from libs.common.routes import token_is_optional

# Documents the scheme; the principal dependencies parse and verify the header themselves.
BEARER = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="An access token of the OIDC provider (`ctip token ROLE PLACE` on the local stack)",
)
_SCHEME = "HTTPBearer"
_COMPONENTS = "#/components/schemas/"
_PROBLEM = f"{_COMPONENTS}ProblemDetail"

_WRITES = {"post", "put", "patch", "delete"}


# Bodies a route reads as bytes (to check a signature first), documented by their model.
_RAW_BODIES: dict[str, type[BaseModel]] = {}


def raw_body(model: type[BaseModel], media_type: str) -> dict[str, Any]:
    """``openapi_extra`` for a route that parses its body itself, after a check on the bytes."""
    _RAW_BODIES[model.__name__] = model
    reference = {"$ref": f"{_COMPONENTS}{model.__name__}"}
    return {"requestBody": {"required": True, "content": {media_type: {"schema": reference}}}}


def _add_raw_bodies(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    text = json.dumps(schema.get("paths", {})) + json.dumps(schema.get("webhooks", {}))
    for name, model in _RAW_BODIES.items():
        if f'"{_COMPONENTS}{name}"' in text:
            document = model.model_json_schema(ref_template=_COMPONENTS + "{model}")
            for inner, part in document.pop("$defs", {}).items():
                components.setdefault(inner, part)
            components[name] = document


def operation_id(route: APIRoute) -> str:
    return route.name


def _prune(path: str, method: str, operation: dict[str, Any], optional: bool) -> None:
    responses: dict[str, Any] = operation.get("responses", {})
    secured = any(_SCHEME in requirement for requirement in operation.get("security", []))
    drop = set()
    if optional:  # a token may be sent (and is then checked), none is needed
        operation["security"] = [{}, {_SCHEME: []}]
        drop.add("403")
        secured = False
    elif not secured:
        drop |= {"401", "403"}
    if method not in _WRITES:
        drop |= {"409", "412", "413"}
    elif "requestBody" not in operation:
        drop.add("413")
    if secured or method not in _WRITES:
        drop.add("429")  # the public forms are the ones that are rate-limited
    if "{" not in path and method not in _WRITES:
        drop.add("404")
    for status in drop:
        responses.pop(status, None)
    for status, response in responses.items():
        if status.startswith(("4", "5")) and "content" not in response:
            # a route that words its own error keeps the problem body every error has
            response["content"] = {PROBLEM_JSON: {"schema": {"$ref": _PROBLEM}}}


def install_openapi(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Replaces ``app.openapi`` with the document described above; duplicate ids fail loudly."""
    routes = [
        r
        for router in routers
        for r in router.routes
        if isinstance(r, APIRoute) and r.include_in_schema
    ]

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        twice = [name for name, n in Counter(operation_id(r) for r in routes).items() if n > 1]
        if twice:
            raise RuntimeError(f"{app.title}: operation ids used twice: {sorted(twice)}")
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            webhooks=app.webhooks.routes,
        )
        _add_raw_bodies(schema)
        for item in schema.get("webhooks", {}).values():
            for operation in item.values():  # what a partner answers us is not validated here
                operation.get("responses", {}).pop("422", None)
        optional = {
            (r.path_format, m.lower())
            for r in routes
            for m in r.methods or ()
            if token_is_optional(r)
        }
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                if isinstance(operation, dict) and "responses" in operation:
                    _prune(path, method, operation, (path, method) in optional)
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]
