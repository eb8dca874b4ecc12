"""The seller's authorization revoked in the middle of an order import, OAuth ``state`` tampering on the way
back, then the reset through the Marketplaces page and the Asset-triggered repair.

A real Airflow (api-server with the Marketplaces plugin, scheduler, dag-processor, triggerer; LocalExecutor)
with the machinery of tests/orders/test_repair_e2e.py (imported, not copied): dag.test() has no scheduler to
run the repair's triggered runs, nor an api-server for the consent callback.

1. ``mip_orders__it`` runs an interval; the sandbox holds its ``items`` task's first getOrderItems on
   arrival (the ``hold`` fault), revokes the refresh token meanwhile, then lets the call go on: it fails
   with the credential error, at once, and the interval is recorded failed;
2. an admin reconnects the account on Multi-Channel > Marketplaces; on the way back from Amazon's consent
   page the callback is tampered with (signature, expiry), which must store nothing and trigger nothing;
   the genuine callback stores the new authorization (a replay of it is refused) and emits the account's
   credentials Asset;
3. ``mip_repair__demo`` re-runs the failed run in place and imports the hours no run tried; mip.orders
   equals the sandbox's orders, none lost or duplicated.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.testing import NO_KEEPALIVE
from tests.faults.conftest import DEMO, FaultRow, order_tally
from tests.marketplaces.conftest import approve_on_amazon, notice_of, start_consent
from tests.orders.conftest import assert_matches_truth, generate
from tests.orders.test_repair_e2e import ORDERS_DAG, REPAIR_DAG, airflow_metadata, runs_of, stack  # noqa: F401
from tests.waiting import wait_until

RUN_ID = "faults__revoked_mid_run"


def tampered_callbacks(callback: str) -> dict[str, str]:
    """The genuine callback URL with its state altered: another signature, a later expiry."""
    state = parse_qs(urlsplit(callback).query)["state"][0]
    version, nonce, expires, signature = state.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return {
        "signature": callback.replace(state, f"{version}.{nonce}.{expires}.{flipped}"),
        "expiry": callback.replace(state, f"{version}.{nonce}.{int(expires) + 3600}.{signature}"),
    }


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a real Airflow on a loaded machine; its waits fail on lack of progress
def test_revoked_mid_run_then_tampered_callbacks_then_reset_and_repair(stack, db, fault_table):  # noqa: F811

    stack, api, sandbox = stack
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    run_start, run_end = hour - timedelta(hours=4), hour - timedelta(hours=3)
    ids = set(generate(sandbox, 20, run_start.timestamp(), run_start.timestamp() + 1200))
    ids |= set(generate(sandbox, 10, run_end.timestamp(), run_end.timestamp() + 1800))  # an hour no run tries

    # 1. the authorization is revoked while the first getOrderItems of items waits at Amazon's door
    sandbox.set_faults(hold=["getOrderItems"])
    try:
        for dag_id in (ORDERS_DAG, REPAIR_DAG):
            api._json("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
        api.trigger(ORDERS_DAG, RUN_ID, run_end)
        wait_until(
            lambda: sandbox.held("getOrderItems"),
            timeout=300,
            every=0.5,
            progress=lambda: api.task_progress([ORDERS_DAG], [(ORDERS_DAG, RUN_ID)]),
            what="the first getOrderItems of items (held by the sandbox)",
        )
        sandbox.admin("POST", f"accounts/{DEMO}/revoke")
    finally:
        sandbox.release("getOrderItems")  # on its way again, with a revoked authorization
    failed_state = api.wait_for_runs([(ORDERS_DAG, RUN_ID)], timeout=300)[(ORDERS_DAG, RUN_ID)]
    items_failed = next(t for t in api.task_instances(ORDERS_DAG, RUN_ID) if t.task_id == "items")
    interval_failed = db.execute(
        "SELECT status, error FROM mip.order_intervals WHERE channel_id = 'it' AND run_id = %s", (RUN_ID,)
    ).fetchone()
    db.commit()

    # 2. reconnect on the Marketplaces page; tampered callbacks first
    token = httpx.post(f"{api.base_url}/auth/token", json={"username": "admin", "password": "admin"})
    history_before = db.execute(
        "SELECT count(*) FROM mip.account_credentials_history WHERE account_id = 'demo'"
    ).fetchone()[0]
    db.commit()
    with httpx.Client(
        base_url=api.base_url, cookies={"_token": token.json()["access_token"]}, timeout=60, limits=NO_KEEPALIVE
    ) as admin:
        callback = approve_on_amazon(sandbox, start_consent(admin, action="reset", account_id="demo"), "demo")
        refused = {}
        for kind, url in tampered_callbacks(callback).items():
            answer = admin.get(url)
            refused[kind] = (answer.status_code, notice_of(answer.text).split(" |")[0])
        history_after_tampering = db.execute(
            "SELECT count(*) FROM mip.account_credentials_history WHERE account_id = 'demo'"
        ).fetchone()[0]
        db.commit()
        repairs_after_tampering = len(runs_of(api, REPAIR_DAG))
        connected = admin.get(callback, follow_redirects=True)
        replay = admin.get(callback)
        refused["replay"] = (replay.status_code, notice_of(replay.text).split(" |")[0])

    # 3. the Asset-triggered repair
    repair = wait_until(
        lambda: [r for r in runs_of(api, REPAIR_DAG).values() if r["state"] in ("success", "failed")],
        timeout=300,
        every=3,
        progress=lambda: api.task_progress([ORDERS_DAG, REPAIR_DAG]),
        what="the repair run to finish",
    )
    orders_runs = runs_of(api, ORDERS_DAG)
    lost, duplicated = order_tally(db, sandbox, "it", "IT", ids)
    fault_table(
        FaultRow(
            "refresh token revoked mid-run, reset, repaired",
            len(orders_runs) + len(repair),
            lost,
            duplicated,
            None,
            f"0 (run {RUN_ID} failed at items, try {items_failed.try_number}: "
            "authorization revoked; re-run in place by the repair)",
        )
    )
    fault_table(
        FaultRow(
            "OAuth state tampering",
            0,
            None,
            None,
            None,
            f"{len(refused)} callbacks refused ("
            + ", ".join(f"{k}: {v[1]}" for k, v in refused.items())
            + f"); {history_after_tampering - history_before} credentials stored, "
            f"{repairs_after_tampering} repairs triggered by them",
        )
    )

    assert failed_state == "failed" and (items_failed.state, items_failed.try_number) == ("failed", 1)
    assert interval_failed[0] == "failed" and "mip credentials reset demo" in interval_failed[1], interval_failed
    assert refused == {
        "signature": (400, "bad_signature"),
        "expiry": (400, "bad_signature"),
        "replay": (400, "replayed"),
    }
    assert (history_after_tampering, repairs_after_tampering) == (history_before, 0)
    shown = notice_of(connected.text)
    assert connected.status_code == 200 and shown.startswith(" | Credentials reset"), shown
    assert [r["state"] for r in repair] == ["success"]
    assert orders_runs[RUN_ID]["state"] == "success", "the failed run turned green in place"
    assert any(r.startswith("repair__") and v["state"] == "success" for r, v in orders_runs.items()), orders_runs
    assert (lost, duplicated) == (0, 0)
    assert_matches_truth(db, sandbox, "it", "IT", ids)
