"""A Seller ID switched during an outage: the old seller's hours stay failed until it authorizes again, nothing
read for one seller is recorded for the other, and the new seller's hours start at the switch.

A real Airflow (the machinery of tests/orders/test_repair_e2e.py, imported): the repair is Asset-triggered.

1. the old seller's (demo's) token is revoked; two manual runs of outage hours fail. Both sellers had orders in
   those hours (4 + 4 of the old seller, 3 of the new one in the first);
2. ``mip credentials reset demo --refresh-token <new seller's> --seller-id <new>`` switches the account; the
   repair it triggers finds the outage hours are the old seller's, that its authorization (kept at the switch)
   is refused, and re-runs nothing: the runs stay failed with the recovery in their error, ``verify`` fails
   naming the hours. The old code re-ran them with the new seller's account and recorded them imported;
3. ``mip credentials reset demo --previous-seller <old> --refresh-token ...`` (the old seller authorized again):
   the repair re-runs the old seller's hours in place with that authorization, they import;
4. a manual window from the switch on imports the new seller's orders, under the new seller.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.faults.conftest import DEMO, FaultRow, order_tally
from tests.orders.conftest import generate
from tests.orders.test_repair_e2e import ORDERS_DAG, REPAIR_DAG, airflow_metadata, runs_of, stack  # noqa: F401
from tests.waiting import wait_until

NEW = "A3MIPNEWSELLER"
MIP = str(Path(sys.executable).parent / "mip")


def mip(airflow_stack, *args: str) -> str:
    result = subprocess.run([MIP, *args], env=airflow_stack.env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"mip {' '.join(args[:3])} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def finished_repairs(api, count: int) -> list[dict]:
    done = [r for r in runs_of(api, REPAIR_DAG).values() if r["state"] in ("success", "failed")]
    return sorted(done, key=lambda r: r["run_after"]) if len(done) >= count else []


def sellers_of(db, ids: set[str]) -> dict[str, str]:
    found = dict(
        db.execute(
            "SELECT amazon_order_id, seller_id FROM mip.orders WHERE amazon_order_id = ANY(%s)", (sorted(ids),)
        ).fetchall()
    )
    db.commit()
    return found


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a real Airflow on a loaded machine; its waits fail on lack of progress
def test_seller_id_switched_during_an_outage(stack, db, fault_table):  # noqa: F811
    stack, api, sandbox = stack
    sandbox.admin(
        "POST", "accounts", json={"account": "newowner", "seller_id": NEW, "participating": ["IT", "DE", "FR", "ES"]}
    )
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    outage = [hour - timedelta(hours=4), hour - timedelta(hours=3)]
    old_ids = set()
    for start in outage:
        old_ids |= set(generate(sandbox, 4, start.timestamp(), start.timestamp() + 1200))
    new_in_outage = set(generate(sandbox, 3, outage[0].timestamp(), outage[0].timestamp() + 1200, seller_id=NEW))

    # 1. the outage: the old seller's authorization is revoked, its runs fail
    sandbox.admin("POST", f"accounts/{DEMO}/revoke")
    for dag_id in (ORDERS_DAG, REPAIR_DAG):
        api._json("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
    outage_runs = [f"faults__outage_{n}" for n in range(2)]
    for run_id, start in zip(outage_runs, outage, strict=True):
        api.trigger(ORDERS_DAG, run_id, start + timedelta(hours=1))
    failed = api.wait_for_runs([(ORDERS_DAG, r) for r in outage_runs], timeout=900)
    assert set(failed.values()) == {"failed"}

    # 2. the switch to the new seller; the repair must not read the old seller's hours with it
    mip(
        stack,
        "credentials",
        "reset",
        "demo",
        "--refresh-token",
        sandbox.account(NEW)["refresh_token"],
        "--seller-id",
        NEW,
    )
    switched_at = db.execute(
        "SELECT recorded_at FROM mip.account_credentials_history WHERE old_seller_id = %s AND seller_id = %s",
        (DEMO, NEW),
    ).fetchone()[0]
    db.commit()
    first_repair = wait_until(
        lambda: finished_repairs(api, 1),
        timeout=600,
        every=3,
        what="the first repair",
        progress=lambda: api.task_progress([ORDERS_DAG, REPAIR_DAG]),
    )[0]
    verify_log = next(t for t in api.task_instances(REPAIR_DAG, first_repair["dag_run_id"]) if t.task_id == "verify")
    while_blocked = {r: runs_of(api, ORDERS_DAG)[r]["state"] for r in outage_runs}
    errors = dict(
        db.execute(
            "SELECT run_id, error FROM mip.order_intervals WHERE channel_id = 'it' AND run_id = ANY(%s)",
            (outage_runs,),
        ).fetchall()
    )
    imported_for_old_while_blocked = db.execute(
        "SELECT count(*) FROM mip.order_intervals WHERE channel_id = 'it' AND seller_id = %s AND status = 'imported' "
        "AND interval_start < %s",
        (DEMO, switched_at),
    ).fetchone()[0]
    stored_while_blocked = sellers_of(db, old_ids | new_in_outage)

    # 3. the old seller authorizes again: a one-off backfill of its hours through the repair
    old_token = sandbox.admin("POST", f"accounts/{DEMO}/refresh_token")["refresh_token"]
    out = mip(stack, "credentials", "reset", "demo", "--previous-seller", DEMO, "--refresh-token", old_token)
    second_repair = wait_until(
        lambda: finished_repairs(api, 2),
        timeout=600,
        every=3,
        what="the second repair",
        progress=lambda: api.task_progress([ORDERS_DAG, REPAIR_DAG]),
    )[1]
    after_reauthorization = {r: runs_of(api, ORDERS_DAG)[r]["state"] for r in outage_runs}

    # 4. the new seller's hours from the switch on (the run waits until its window closed + 2 minutes)
    generate(sandbox, 3, switched_at.timestamp() + 1, switched_at.timestamp() + 30, seller_id=NEW)
    window_end = datetime.now(UTC).replace(microsecond=0)
    window = {"window_start": switched_at.isoformat(), "window_end": window_end.isoformat()}
    api.trigger(ORDERS_DAG, "faults__new_seller", window_end, conf=window)
    new_state = api.wait_for_runs([(ORDERS_DAG, "faults__new_seller")], timeout=900)
    # orders whose LastUpdateDate is still in the window were in it when the run read them
    new_after = {
        o["AmazonOrderId"]
        for o in sandbox.admin("GET", "orders", params={"seller_id": NEW, "country": "IT"})
        if switched_at <= datetime.fromisoformat(o["LastUpdateDate"].replace("Z", "+00:00")) < window_end
    }
    stored = sellers_of(db, old_ids | new_in_outage | new_after)

    lost_old, duplicated_old = order_tally(db, sandbox, "it", "IT", old_ids)
    lost_new = sum(1 for i in new_after if stored.get(i) != NEW)
    misattributed = sum(1 for i in old_ids if stored.get(i, DEMO) != DEMO) + sum(
        1 for i in new_in_outage | new_after if stored.get(i, NEW) != NEW
    )
    db.commit()
    fault_table(
        FaultRow(
            "Seller ID switched during an outage",
            len(runs_of(api, ORDERS_DAG)) + 2,
            lost_old + lost_new,
            duplicated_old,
            None,
            f"{misattributed} orders mis-attributed; the old seller's {len(outage)} hours stayed failed after the "
            f"switch (repair {first_repair['state']}: no authorization of {DEMO}), imported in place after "
            f"`--previous-seller` (repair {second_repair['state']}); the new seller's {len(new_in_outage)} orders of "
            "the outage never recorded as the old seller's",
        )
    )

    assert "Seller ID switched A1MIPDEMOSELLER -> A3MIPNEWSELLER" not in out
    assert first_repair["state"] == "failed" and verify_log.state == "failed"
    assert while_blocked == dict.fromkeys(outage_runs, "failed"), "not re-run with the new seller's account"
    assert all(f"--previous-seller {DEMO}" in errors[r] for r in outage_runs), errors
    assert imported_for_old_while_blocked == 0 and stored_while_blocked == {}
    assert second_repair["state"] == "success"
    assert after_reauthorization == dict.fromkeys(outage_runs, "success"), "the failed runs turned green in place"
    assert new_state == {(ORDERS_DAG, "faults__new_seller"): "success"} and new_after
    assert (lost_old, duplicated_old, lost_new, misattributed) == (0, 0, 0, 0)
    assert not set(stored) & new_in_outage, "the new seller's orders before the switch are not the channel's"
