"""Switchable faults (admin API ``/_sandbox/faults`` and the matching command-line flags).

``hold`` (admin API only) is the one that synchronises rather than breaks: calls of the held
operations wait as they arrive, before authentication, usage plans and the other faults, until
``POST /_sandbox/faults/release`` lets them go on (``proceed``: handled as if they arrived then) or
answers them 503 without any effect (``drop``: as if they never reached Amazon). A test holds
``createFeed`` to kill a worker at a moment of its choosing, however slow the machine.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

RELEASE_OUTCOMES = ("proceed", "drop")
COUNTED = ("fatal_feeds", "fatal_reports", "cancelled_reports")  # "the next N ..." faults


@dataclass
class Faults:
    throttle_fraction: float = 0.0  # share of SP-API calls answered 429 whatever the bucket says
    error_5xx_rate: float = 0.0  # share of SP-API calls answered 500/503
    slow_feeds: float = 1.0  # multiplies feed processing durations
    fatal_feeds: int = 0  # the next N feeds end FATAL
    fatal_reports: int = 0  # the next N reports requested end FATAL
    cancelled_reports: int = 0  # the next N reports requested end CANCELLED (Amazon: no data)
    partial_acceptance: float = 0.0  # share of feed messages rejected with an issue
    truncated_reports: bool = False  # report documents cut mid-row
    malformed_reports: bool = False  # report documents with a wrong column count and a garbage line
    hold: tuple[str, ...] = field(default=())  # operation ids whose calls wait until released
    notifications_duplicate: float = 0.0  # share of ORDER_CHANGE messages sent twice
    notifications_dropped: float = 0.0  # share of ORDER_CHANGE messages never sent
    notifications_delayed: bool = False  # messages held until POST /_sandbox/notifications/release
    notifications_out_of_order: bool = False  # each delivery batch sent newest change first

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        fraction = data.pop("throttle_fraction")
        return {"throttle_storm": {"enabled": fraction > 0, "fraction": fraction}, **data}


def _fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}")
    return float(value)


class FaultSwitch:
    """Thread-safe holder of the current faults, with the seeded dice that apply them."""

    def __init__(self, seed: int, initial: Faults | None = None, operations: frozenset[str] = frozenset()) -> None:
        self._lock = threading.Lock()
        self._initial = initial or Faults()
        self.current = Faults(**asdict(self._initial))
        self._rng = random.Random(seed * 7919 + 1)
        self._operations = operations  # what ``hold`` may name (empty: anything)
        self._held: dict[int, str] = {}  # ticket -> operation, calls waiting
        self._outcomes: dict[int, str] = {}  # ticket -> outcome, released calls not yet resumed
        self._tickets = 0

    def update(self, changes: dict[str, Any]) -> Faults:
        known = {f.name for f in fields(Faults)} - {"throttle_fraction"} | {"throttle_storm"}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {sorted(known)}")
        with self._lock:
            new = Faults(**asdict(self.current))
            for name, value in changes.items():
                if name == "throttle_storm":
                    if isinstance(value, bool):
                        new.throttle_fraction = 1.0 if value else 0.0
                    elif isinstance(value, dict) and set(value) <= {"fraction", "enabled"}:
                        enabled = value.get("enabled", True)
                        new.throttle_fraction = (
                            _fraction("throttle_storm.fraction", value.get("fraction", 1.0)) if enabled else 0.0
                        )
                    else:
                        raise ValueError(f"throttle_storm must be true/false or {{'fraction': 0..1}}, got {value!r}")
                elif name in (
                    "error_5xx_rate",
                    "partial_acceptance",
                    "notifications_duplicate",
                    "notifications_dropped",
                ):
                    setattr(new, name, _fraction(name, value))
                elif name == "slow_feeds":
                    if isinstance(value, bool) or not isinstance(value, int | float) or value < 1:
                        raise ValueError(f"slow_feeds must be a factor >= 1, got {value!r}")
                    new.slow_feeds = float(value)
                elif name == "hold":
                    new.hold = self._operation_ids(value)
                elif name in COUNTED:
                    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
                    setattr(new, name, value)
                else:
                    if not isinstance(value, bool):
                        raise ValueError(f"{name} must be true or false, got {value!r}")
                    setattr(new, name, value)
            self.current = new
            return new

    def _operation_ids(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f'hold must be a list of operation ids, e.g. ["createFeed"], got {value!r}')
        unknown = sorted(set(value) - self._operations) if self._operations else []
        if unknown:
            raise ValueError(f"hold: unknown operation(s) {unknown}; known: {sorted(self._operations)}")
        return tuple(sorted(set(value)))

    def reset(self) -> Faults:
        """Every fault off; held calls proceed."""
        with self._lock:
            self.current = Faults()
            self._release(set(self._held.values()), "proceed")
            return self.current

    # --- hold ---------------------------------------------------------------------------------
    def hold_ticket(self, operation: str) -> int | None:
        """A ticket when calls of ``operation`` are held (the caller waits for ``outcome``), else None."""
        with self._lock:
            if operation not in self.current.hold:
                return None
            self._tickets += 1
            self._held[self._tickets] = operation
            return self._tickets

    def outcome(self, ticket: int) -> str | None:
        """``proceed`` or ``drop`` once the held call is released (then forgotten), None while held."""
        with self._lock:
            return self._outcomes.pop(ticket, None)

    def release(self, operation: str, outcome: str = "proceed") -> int:
        """Stop holding ``operation``; its waiting calls get ``outcome``. Returns how many were waiting."""
        if outcome not in RELEASE_OUTCOMES:
            raise ValueError(f"outcome must be one of {list(RELEASE_OUTCOMES)}, got {outcome!r}")
        with self._lock:
            self.current = replace(self.current, hold=tuple(op for op in self.current.hold if op != operation))
            return self._release({operation}, outcome)

    def _release(self, operations: set[str], outcome: str) -> int:
        tickets = [ticket for ticket, operation in self._held.items() if operation in operations]
        for ticket in tickets:
            del self._held[ticket]
            self._outcomes[ticket] = outcome
        return len(tickets)

    def held(self) -> dict[str, int]:
        """Operation -> calls waiting now."""
        with self._lock:
            return dict(Counter(self._held.values()))

    def roll(self, probability: float) -> bool:
        if probability <= 0:
            return False
        if probability >= 1:
            return True
        with self._lock:
            return self._rng.random() < probability

    def take_fatal_feed(self) -> bool:
        """Consume one of the "next N feeds end FATAL" if any is left."""
        return self.take("fatal_feeds")

    def take(self, name: str) -> bool:
        """Consume one of a counted fault ("the next N ...", ``COUNTED``) if any is left."""
        with self._lock:
            left = getattr(self.current, name)
            if left > 0:
                setattr(self.current, name, left - 1)
                return True
            return False

    def report_ending(self) -> str | None:
        """The end state a report requested now is forced to (``fatal_reports``, then ``cancelled_reports``)."""
        if self.take("fatal_reports"):
            return "FATAL"
        return "CANCELLED" if self.take("cancelled_reports") else None
