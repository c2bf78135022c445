"""The one lifecycle walker: the transition for (status, action), 409 with the actions the
status allows, 403 for another role's step."""

from __future__ import annotations

from enum import StrEnum

import pytest

from libs.common.errors import Conflict, Forbidden
from libs.common.statemachine import RuleViolation, StateMachine, Transition


class Door(StrEnum):
    open = "open"
    shut = "shut"
    locked = "locked"


class Push(StrEnum):
    close = "close"
    lock = "lock"
    unlock = "unlock"
    open = "open"


KEEPER = frozenset({"keeper"})
WARDENS = frozenset({"keeper", "warden"})


def door() -> StateMachine[Door, Push]:
    """Built per test: a machine built at import would escape the mutants of its constructor."""
    return StateMachine(
        "a door",
        {
            (Door.open, Push.close): Transition(Door.shut, event="closed"),
            (Door.shut, Push.open): Transition(Door.open),
            (Door.shut, Push.lock): Transition(
                Door.locked, KEEPER, "locked", "only a keeper locks"
            ),
            (Door.locked, Push.unlock): Transition(Door.shut, WARDENS),
        },
    )


def test_a_step_the_status_allows_leads_where_its_transition_says() -> None:
    step = door().step(Door.shut, Push.lock, frozenset({"keeper", "visitor"}))
    assert (step.to, step.event, step.why) == (Door.locked, "locked", "only a keeper locks")


def test_the_allowed_actions_of_a_status_are_sorted_and_only_its_own() -> None:
    assert door().allowed(Door.shut) == ["lock", "open"]
    assert door().allowed(Door.open) == ["close"]


def test_a_step_the_status_does_not_allow_names_what_is_allowed() -> None:
    with pytest.raises(RuleViolation, match="a door that is open cannot take the action lock") as e:
        door().step(Door.open, Push.lock)
    assert e.value.allowed == ["close"]


def test_a_step_for_another_role_is_refused_naming_the_roles() -> None:
    with pytest.raises(PermissionError, match=r"^lock is for: keeper$"):
        door().step(Door.shut, Push.lock, frozenset({"visitor"}))


def test_without_roles_the_role_check_is_left_to_the_route() -> None:
    assert door().step(Door.shut, Push.lock).to is Door.locked


def test_a_transition_for_anyone_needs_no_role() -> None:
    assert door().step(Door.shut, Push.open, frozenset()).to is Door.open


def test_take_answers_409_with_the_allowed_actions() -> None:
    with pytest.raises(Conflict) as refused:
        door().take(Door.locked, Push.open, KEEPER)
    assert refused.value.status == 409
    assert refused.value.detail == "a door that is locked cannot take the action open"
    assert refused.value.extra == {"allowed_actions": ["unlock"]}


def test_take_answers_403_for_another_role() -> None:
    with pytest.raises(Forbidden, match=r"^unlock is for: keeper, warden$"):
        door().take(Door.locked, Push.unlock, frozenset({"visitor"}))


def test_a_rule_violation_keeps_the_rule_it_cites() -> None:
    violation = RuleViolation("not now", ["wait"], rule="Art. 37")
    assert (str(violation), violation.reason, violation.allowed, violation.rule) == (
        "not now",
        "not now",
        ["wait"],
        "Art. 37",
    )
