"""A circuit breaker per partner: pure rules, no I/O. The delivery worker keeps a partner's
``Circuit`` in its ``partners`` row (``circuit``, ``circuit_failures``, ``circuit_open_until``,
``circuit_open_seconds``) and asks it whether to send, and how many.

* closed: deliveries go out; ``failure_threshold`` (5) failed attempts in a row open it.
* open: nothing is sent to the partner until ``circuit_open_until`` (30 s the first time). Its
  deliveries wait where they are: not attempted, so no attempt is spent, none fails.
* half-open (open, and the time has passed): one delivery goes out as a probe. Success closes
  the circuit; failure opens it again for twice as long, up to ``max_open_seconds`` (10 min).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class CircuitState(StrEnum):
    closed = "closed"
    open = "open"
    half_open = "half_open"


# What ``ctip_partner_circuit`` reads for each state: 0 is healthy, anything else is not.
GAUGE_VALUE = {CircuitState.closed: 0.0, CircuitState.half_open: 1.0, CircuitState.open: 2.0}


@dataclass(frozen=True)
class CircuitRules:
    failure_threshold: int = 5
    open_seconds: float = 30.0
    max_open_seconds: float = 600.0


@dataclass(frozen=True)
class Circuit:
    """What is stored: ``closed`` or ``open`` (half-open is an open circuit whose time is up)."""

    state: CircuitState = CircuitState.closed
    failures: int = 0
    open_until: datetime | None = None
    open_seconds: float | None = None

    def state_at(self, now: datetime) -> CircuitState:
        if self.state is CircuitState.closed:
            return CircuitState.closed
        if self.open_until is not None and self.open_until > now:
            return CircuitState.open
        return CircuitState.half_open

    def allows(self, now: datetime) -> bool:
        """Whether a delivery may be attempted now."""
        return self.state_at(now) is not CircuitState.open

    def batch(self, now: datetime, size: int) -> int:
        """How many deliveries to send now: none while open, a single probe while half-open."""
        state = self.state_at(now)
        if state is CircuitState.open:
            return 0
        return 1 if state is CircuitState.half_open else size

    def succeeded(self) -> Circuit:
        return Circuit()

    def failed(self, now: datetime, rules: CircuitRules) -> Circuit:
        """After a failed attempt (anything but 2xx and 410) at ``now``."""
        if self.state_at(now) is not CircuitState.closed:  # the probe failed
            seconds = min((self.open_seconds or rules.open_seconds) * 2, rules.max_open_seconds)
            return self._opened(now, seconds, self.failures + 1)
        failures = self.failures + 1
        if failures >= rules.failure_threshold:
            return self._opened(now, min(rules.open_seconds, rules.max_open_seconds), failures)
        return Circuit(CircuitState.closed, failures)

    @staticmethod
    def _opened(now: datetime, seconds: float, failures: int) -> Circuit:
        return Circuit(CircuitState.open, failures, now + timedelta(seconds=seconds), seconds)
