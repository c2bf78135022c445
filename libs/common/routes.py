"""What a route asks of its caller, read from its dependencies: the OpenAPI document and the
problem renderer both need to know whether a route is public."""

from __future__ import annotations

from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute


def dependency_names(dependant: Dependant) -> set[str]:
    found = {getattr(dependant.call, "__name__", "")}
    for sub in dependant.dependencies:
        found |= dependency_names(sub)
    return found


def is_public(route: Any) -> bool:
    """A route that needs no token: the public forms, receipts, signed partner webhooks."""
    if not isinstance(route, APIRoute):
        return False
    return "current_principal" not in dependency_names(route.dependant)


def speaks_to_residents(route: Any) -> bool:
    """A public route a resident uses (the forms, receipts), not a partner's signed webhook."""
    return is_public(route) and "signed_by_partner" not in dependency_names(route.dependant)


def token_is_optional(route: APIRoute) -> bool:
    names = dependency_names(route.dependant)
    return "optional_principal" in names and "current_principal" not in names
