"""Waiting for what other processes do, without racing the wall clock.

``wait_until(check, ...)`` polls ``check`` until it returns a truthy value (returned). With ``progress``,
a callable whose value changes while the awaited work advances (the CPU seconds of the processes doing
it, the states of a run's task instances), ``timeout`` counts only the seconds in which nothing moved:
each change restarts the clock, so a machine several times slower only waits longer, and a stuck one
still fails. Without ``progress`` it is a plain timeout, for what should take a moment anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(
    check: Callable[[], Any],
    timeout: float = 60,
    every: float = 0.2,
    what: str = "condition",
    progress: Callable[[], Any] | None = None,
) -> Any:
    last = progress() if progress else None
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if progress:
            now = progress()
            if now != last:
                last, deadline = now, time.monotonic() + timeout
        if time.monotonic() > deadline:
            still = f" with no progress for {timeout:.0f}s" if progress else f" after {timeout:.0f}s"
            raise AssertionError(f"timed out{still} waiting for {what}")
        time.sleep(every)


def process_trees(*pids: int) -> list:
    """The psutil processes ``pids`` and their descendants that still exist."""
    import psutil

    found = []
    for pid in pids:
        try:
            parent = psutil.Process(pid)
            found += [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
    return found


def cpu_seconds(*pids: int) -> float:
    """CPU time used so far by processes ``pids`` and their descendants (those gone count no more)."""
    import psutil

    total = 0.0
    for process in process_trees(*pids):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return round(total, 1)
