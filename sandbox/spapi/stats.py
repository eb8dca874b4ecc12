"""Truth about the calls the sandbox answered: per operation counts, 429s, 5xx, contract violations."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any


class CallStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ops: dict[str, dict[str, Any]] = {}
        self.violations: list[str] = []

    def record(self, operation_id: str, seller_id: str | None, status: int) -> None:
        with self._lock:
            entry = self._ops.get(operation_id)
            if entry is None:
                entry = self._ops[operation_id] = {
                    "calls": 0,
                    "throttled": 0,
                    "errors_5xx": 0,
                    "by_status": defaultdict(int),
                    "by_seller": defaultdict(int),
                }
            entry["calls"] += 1
            entry["by_status"][str(status)] += 1
            entry["by_seller"][seller_id or "-"] += 1
            if status == 429:
                entry["throttled"] += 1
            elif status >= 500:
                entry["errors_5xx"] += 1

    def violation(self, message: str) -> None:
        with self._lock:
            if len(self.violations) < 1000:
                self.violations.append(message)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                op: {
                    **{k: v for k, v in entry.items() if not isinstance(v, defaultdict)},
                    "by_status": dict(entry["by_status"]),
                    "by_seller": dict(entry["by_seller"]),
                }
                for op, entry in sorted(self._ops.items())
            }

    def reset(self) -> None:
        with self._lock:
            self._ops.clear()
            self.violations.clear()
