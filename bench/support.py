"""What the benchmark scripts share: a scratch mip database and a sandbox.

Database: ``MIP_BENCH_DATABASE_URL`` (a server URL), else the PostgreSQL on 127.0.0.1:5432 if it
answers, else the embedded one under ``.local/bench-postgres``. The database ``mip_bench`` is
created afresh (and migrated) on it by every run: a scratch database left by an older checkout may
carry migration heads that no longer exist.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the sandbox package lives at the repository root
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432"


def bench_database(name: str = "mip_bench") -> str:
    from mip.store import embedded
    from mip.store.migrate import upgrade
    from mip.store.server import drop_database, ensure_database, reachable

    server = os.environ.get("MIP_BENCH_DATABASE_URL")
    if not server:
        local = reachable(LOCAL_SERVER)
        server = LOCAL_SERVER if local else embedded.ensure_running(ROOT / ".local" / "bench-postgres")
    drop_database(server, name)
    url = ensure_database(server, name)
    upgrade(url)
    return url


@contextmanager
def sandbox(time_scale: float, **kwargs) -> Iterator:
    import tempfile

    from sandbox.testing import run_sandbox

    with (
        tempfile.TemporaryDirectory(prefix="mip-bench-sandbox-") as state,
        run_sandbox(state, time_scale=time_scale, **kwargs) as running,
    ):
        yield running


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started
