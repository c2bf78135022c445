"""Lifecycles as data: (status, action) → the transition, with its target, the roles that may
take it and the event it emits. Intake's tips and missing persons, casework's cases and
victim_support's victims all walk one of these, so a refused step always answers alike: 409 with
the actions the record's status allows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from libs.common.errors import Conflict, Forbidden

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)


class RuleViolation(Exception):
    """A step the law or the workflow does not allow now; ``allowed`` lists what is, ``rule``
    names the rule when there is one to cite."""

    def __init__(
        self, reason: str, allowed: list[str] | None = None, rule: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.allowed = allowed
        self.rule = rule


@dataclass(frozen=True)
class Transition(Generic[S]):
    """One edge: where it leads, who may take it (empty: whoever the route lets in), the event
    it emits (its short name) and why the law allows it."""

    to: S
    roles: frozenset[str] = frozenset()
    event: str | None = None
    why: str = ""


class StateMachine(Generic[S, A]):
    def __init__(self, noun: str, transitions: Mapping[tuple[S, A], Transition[S]]) -> None:
        self.noun = noun
        self.transitions = dict(transitions)

    def allowed(self, status: S) -> list[str]:
        return sorted(a.value for (s, a) in self.transitions if s == status)

    def step(self, status: S, action: A, roles: frozenset[str] | None = None) -> Transition[S]:
        """The transition, or RuleViolation (not from this status) or PermissionError (not for
        these roles); ``roles=None`` skips the role check."""
        found = self.transitions.get((status, action))
        if found is None:
            raise RuleViolation(
                f"{self.noun} that is {status.value} cannot take the action {action.value}",
                self.allowed(status),
            )
        if roles is not None and found.roles and not roles & found.roles:
            raise PermissionError(f"{action.value} is for: {', '.join(sorted(found.roles))}")
        return found

    def take(self, status: S, action: A, roles: frozenset[str] | None = None) -> Transition[S]:
        """``step`` as HTTP answers: 409 with ``allowed_actions``, or 403."""
        try:
            return self.step(status, action, roles)
        except RuleViolation as exc:
            raise Conflict(exc.reason, allowed_actions=exc.allowed) from exc
        except PermissionError as exc:
            raise Forbidden(str(exc)) from exc
