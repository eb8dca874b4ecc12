"""``make distributed-test`` as part of ``make test``: Airflow with CeleryExecutor and two workers on the
local Redis, against a LocalExecutor run of the same DAGs (scripts/distributed_test.py, about 5 minutes).

It needs a Redis (``MIP_DIST_REDIS_URL``, default ``redis://127.0.0.1:6379/11``); where none answers the
test is skipped with that reason. The database server is the suite's (``MIP_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

REDIS_URL = os.environ.get("MIP_DIST_REDIS_URL", "redis://127.0.0.1:6379/11")


def harness_environment() -> dict[str, str]:
    """The environment without the suite's Airflow and MIP settings: the harness configures each deployment."""
    kept = {"MIP_TEST_DATABASE_URL", "MIP_DIST_REDIS_URL"}
    return {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MIP_")) or k in kept}


@pytest.mark.slow
@pytest.mark.timeout(3600)  # the harness's own waits fail on lack of progress; this only stops a hang
def test_two_celery_workers_give_the_mip_tables_of_a_local_executor_run():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis answers at {REDIS_URL} ({exc}): the distributed run needs one (MIP_DIST_REDIS_URL)")
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "distributed_test.py")],
        cwd=ROOT,
        env=harness_environment(),
        capture_output=True,
        text=True,
        timeout=3500,
    )
    output = run.stdout + run.stderr
    print(output[-4000:])  # the harness's summary, shown with -rA or on failure
    assert run.returncode == 0, output[-8000:]
    assert "PASSED: both workers ran tasks and the mip tables equal the LocalExecutor run's" in run.stdout
