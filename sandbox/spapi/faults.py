"""Switchable faults (admin API ``/_sandbox/faults`` and the matching command-line flags)."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class Faults:
    throttle_fraction: float = 0.0  # share of SP-API calls answered 429 whatever the bucket says
    error_5xx_rate: float = 0.0  # share of SP-API calls answered 500/503
    slow_feeds: float = 1.0  # multiplies feed processing durations
    fatal_feeds: int = 0  # the next N feeds end FATAL
    partial_acceptance: float = 0.0  # share of feed messages rejected with an issue
    truncated_reports: bool = False  # report documents cut mid-row
    malformed_reports: bool = False  # report documents with a wrong column count and a garbage line

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

    def __init__(self, seed: int, initial: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self._initial = initial or Faults()
        self.current = Faults(**asdict(self._initial))
        self._rng = random.Random(seed * 7919 + 1)

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
                elif name in ("error_5xx_rate", "partial_acceptance"):
                    setattr(new, name, _fraction(name, value))
                elif name == "slow_feeds":
                    if isinstance(value, bool) or not isinstance(value, int | float) or value < 1:
                        raise ValueError(f"slow_feeds must be a factor >= 1, got {value!r}")
                    new.slow_feeds = float(value)
                elif name == "fatal_feeds":
                    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                        raise ValueError(f"fatal_feeds must be an integer >= 0, got {value!r}")
                    new.fatal_feeds = value
                else:
                    if not isinstance(value, bool):
                        raise ValueError(f"{name} must be true or false, got {value!r}")
                    setattr(new, name, value)
            self.current = new
            return new

    def reset(self) -> Faults:
        with self._lock:
            self.current = Faults()
            return self.current

    def roll(self, probability: float) -> bool:
        if probability <= 0:
            return False
        if probability >= 1:
            return True
        with self._lock:
            return self._rng.random() < probability

    def take_fatal_feed(self) -> bool:
        """Consume one of the "next N feeds end FATAL" if any is left."""
        with self._lock:
            if self.current.fatal_feeds > 0:
                self.current.fatal_feeds -= 1
                return True
            return False
