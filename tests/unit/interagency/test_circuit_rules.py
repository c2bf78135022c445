"""A partner's circuit breaker as pure rules (``services/interagency/circuit.py``): opens after the
threshold of failures in a row, lets one probe through once its time is up, doubles the wait on
each failed probe up to the cap, closes on success."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.interagency.circuit import GAUGE_VALUE, Circuit, CircuitRules, CircuitState
from services.interagency.settings import InteragencySettings

T0 = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
RULES = CircuitRules(failure_threshold=5, open_seconds=30.0, max_open_seconds=600.0)


def after(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def failed_times(circuit: Circuit, n: int, at: datetime = T0) -> Circuit:
    for _ in range(n):
        circuit = circuit.failed(at, RULES)
    return circuit


def test_the_defaults_are_5_failures_30_s_and_10_min() -> None:
    assert InteragencySettings().circuit_rules() == RULES


def test_four_failures_in_a_row_keep_it_closed_the_fifth_opens_it_for_30_s() -> None:
    four = failed_times(Circuit(), 4)
    assert four == Circuit(CircuitState.closed, 4)
    assert four.allows(T0) and four.batch(T0, 20) == 20

    five = four.failed(T0, RULES)
    assert five.state is CircuitState.open
    assert five.open_until == after(30) and five.open_seconds == 30
    assert five.state_at(after(29.9)) is CircuitState.open
    assert not five.allows(after(29.9)) and five.batch(after(29.9), 20) == 0


def test_a_success_between_failures_starts_the_count_again() -> None:
    circuit = failed_times(Circuit(), 4).succeeded()
    assert circuit == Circuit()
    assert failed_times(circuit, 4).state is CircuitState.closed
    assert failed_times(circuit, 5).state is CircuitState.open


def test_once_its_time_is_up_an_open_circuit_is_half_open_and_sends_one_probe() -> None:
    opened = failed_times(Circuit(), 5)
    assert opened.state_at(after(30)) is CircuitState.half_open
    assert opened.allows(after(30))
    assert opened.batch(after(30), 20) == 1


def test_each_failed_probe_doubles_the_wait_up_to_the_cap() -> None:
    circuit, now, waits = failed_times(Circuit(), 5), T0, []
    for _ in range(7):
        assert circuit.open_until is not None
        now = circuit.open_until  # the probe goes out as soon as it may
        assert circuit.state_at(now) is CircuitState.half_open
        circuit = circuit.failed(now, RULES)
        waits.append(circuit.open_seconds)
        assert circuit.state_at(now) is CircuitState.open
    assert waits == [60, 120, 240, 480, 600, 600, 600]


def test_a_successful_probe_closes_it_and_the_next_opening_is_30_s_again() -> None:
    circuit = failed_times(Circuit(), 5)
    circuit = circuit.failed(after(30), RULES)  # probe failed: 60 s
    closed = circuit.succeeded()
    assert closed == Circuit(CircuitState.closed, 0)
    assert closed.batch(after(200), 20) == 20
    again = failed_times(closed, 5, after(200))
    assert again.open_seconds == 30 and again.open_until == after(230)


@pytest.mark.parametrize(("threshold", "opens_at"), [(1, 1), (3, 3)])
def test_the_threshold_is_configurable(threshold: int, opens_at: int) -> None:
    rules = CircuitRules(failure_threshold=threshold, open_seconds=1, max_open_seconds=4)
    circuit = Circuit()
    for n in range(1, opens_at + 1):
        circuit = circuit.failed(T0, rules)
        assert (circuit.state is CircuitState.open) == (n == opens_at)


def test_a_first_wait_longer_than_the_cap_is_cut_to_the_cap() -> None:
    rules = CircuitRules(failure_threshold=1, open_seconds=900, max_open_seconds=600)
    assert Circuit().failed(T0, rules).open_seconds == 600


def test_the_gauge_reads_0_closed_1_half_open_2_open() -> None:
    assert GAUGE_VALUE == {
        CircuitState.closed: 0.0,
        CircuitState.half_open: 1.0,
        CircuitState.open: 2.0,
    }
