"""MIP's part of ``airflow-init``: the ``mip`` database, its schema, the channel registry, the pools.

Run after Airflow's own ``airflow db migrate``, with the environment of the Airflow services
(``MIP_DATABASE_URL``, ``MIP_CHANNELS_FILE``, Airflow's configuration). Every step is idempotent, so
airflow-init may run on every ``docker compose up``:

1. create the ``mip`` database named by ``MIP_DATABASE_URL`` on its server when it is missing;
2. ``mip db upgrade`` (Alembic, to the latest migration);
3. ``mip channels deploy`` (records new channels' role and link; refuses a changed topology);
4. ``python -m mip.airflow.setup``: one Airflow pool per seller account (``sp_api__<account>``), so the
   tasks of one account that call Amazon share a bounded number of slots whatever the number of
   workers; and, when ``MIP_SANDBOX_URL`` answers (compose profile ``sandbox``), the accounts'
   ``amazon_sp_api`` connections with the sandbox's credentials (existing connections are kept).

The distributed test (scripts/distributed_test.py) runs it too, with ``--skip-channels-deploy``: there
the DAGs' own ``check_channel`` tasks register the channels.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

DEFAULT_POOL_SLOTS = 4


def say(message: str) -> None:
    print(f"[mip init] {message}", flush=True)


def ensure_mip_database(url: str) -> None:
    from mip.store.server import base_url, ensure_database

    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    ensure_database(base_url(url), name)
    say(f"database {name} exists on {base_url(url).rsplit('@', 1)[-1]}")


def sandbox_url() -> str | None:
    """``MIP_SANDBOX_URL`` when the sandbox answers there (the compose profile ``sandbox`` is up)."""
    import httpx

    url = os.environ.get("MIP_SANDBOX_URL")
    if not url:
        return None
    try:
        healthy = httpx.get(f"{url}/_sandbox/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        healthy = False
    if not healthy:
        say(f"no sandbox answers at {url}: account connections are not created from it")
    return url if healthy else None


def airflow_setup(slots: int, sandbox: str | None) -> None:
    """Pools per seller account and, with the sandbox, its accounts' connections (mip.airflow.setup)."""
    command = [sys.executable, "-m", "mip.airflow.setup", "--pool-slots", str(slots)]
    if sandbox:
        command += ["--sandbox", sandbox]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"[mip init] {' '.join(command[1:])} failed:\n{result.stdout}\n{result.stderr}")
    for line in result.stdout.splitlines():
        say(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--skip-channels-deploy", action="store_true", help="leave channel registration to the DAGs")
    parser.add_argument(
        "--pool-slots",
        type=int,
        default=int(os.environ.get("MIP_POOL_SLOTS_PER_ACCOUNT", DEFAULT_POOL_SLOTS)),
        help=f"slots of each account's pool (default: $MIP_POOL_SLOTS_PER_ACCOUNT or {DEFAULT_POOL_SLOTS})",
    )
    args = parser.parse_args(argv)

    from mip.cli import main as mip
    from mip.store.db import database_url
    from mip.store.migrate import upgrade

    url = database_url()
    ensure_mip_database(url)
    upgrade(url)
    say("mip schema migrated")
    if not args.skip_channels_deploy and mip(["channels", "deploy"]) != 0:
        return 1
    airflow_setup(args.pool_slots, sandbox_url())
    return 0


if __name__ == "__main__":
    sys.exit(main())
