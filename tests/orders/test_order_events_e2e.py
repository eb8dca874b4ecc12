"""Orders in minutes, for real: the triggerer's AssetWatcher (MessageQueueTrigger on SQS) runs the event DAG.

``dag.test()`` cannot exercise a watcher: only a running triggerer polls the queue and only the scheduler
turns its Asset events into runs. So this case starts Airflow (api-server, scheduler, dag-processor,
triggerer; LocalExecutor, tests/orders/test_repair_e2e.py's machinery) with a topology whose demo account
has ``order_events`` on a moto queue, an ``aws`` connection with moto's endpoint, the account subscribed
(``mip.orders.subscribe``), and checks that orders the sandbox creates reach mip.orders through
``mip_order_events__demo`` runs, with every message's outcome recorded, and nothing else running.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.orders.conftest import assert_matches_truth, generate
from tests.orders.test_repair_e2e import airflow_metadata, e2e_config, run, runs_of  # noqa: F401 - fixture
from tests.waiting import wait_until

EVENTS_DAG = "mip_order_events__demo"
QUEUE = "mip-orders-e2e"
SCALE = 60.0


@pytest.fixture
def events_stack(airflow_metadata, mip_url, topology_file, tmp_path, clean_orders, gateway_for):  # noqa: F811
    from mipdist.stack import AirflowStack

    from mip.orders.queue import check_queue_url
    from mip.orders.subscribe import subscribe
    from sandbox.sqs import run_sqs
    from sandbox.testing import run_sandbox

    with (
        run_sqs(tmp_path / "sqs", queues=[QUEUE]) as sqs,
        run_sandbox(tmp_path / "spapi", time_scale=SCALE, extra_args=["--sqs-endpoint", sqs.endpoint]) as sandbox,
    ):
        topology = yaml.safe_load(topology_file.read_text())
        for account in topology["accounts"]:
            if account["id"] == "demo":
                account["order_events"] = {"queue_url": sqs.queue_url(QUEUE), "aws_conn_id": "mip_aws"}
        events_topology = tmp_path / "channels.yaml"
        events_topology.write_text(yaml.safe_dump(topology, sort_keys=False))
        clean_orders.execute("DELETE FROM mip.order_events")
        clean_orders.execute("DELETE FROM mip.order_event_subscriptions")
        subscribe(
            clean_orders, gateway_for(sandbox), "demo", "IT", check_queue_url(sqs.queue_url(QUEUE), allow_sandbox=True)
        )
        clean_orders.commit()
        config = e2e_config("events", airflow_metadata, mip_url, events_topology, tmp_path / "airflow")
        stack = AirflowStack(config)
        try:
            run(
                [sys.executable, "-m", "mip.airflow.setup", "--sandbox", sandbox.base_url],
                stack.env,
                "pools and connections (mip.airflow.setup)",
            )
            extra = json.dumps({"endpoint_url": sqs.endpoint, "region_name": "eu-west-1"})
            run(
                [str(Path(sys.executable).parent / "airflow"), "connections", "add", "mip_aws", "--conn-type", "aws",
                 "--conn-login", "sandbox", "--conn-password", "sandbox", "--conn-extra", extra],
                stack.env,
                "the aws connection of the queue",
            )  # fmt: skip
            api = stack.start()
            api.wait_for_dags([EVENTS_DAG], timeout=600)
            api._json("PATCH", f"/api/v2/dags/{EVENTS_DAG}", json={"is_paused": False})
            yield stack, api, sandbox
        finally:
            stack.stop()


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_triggerer_turns_order_notifications_into_imports(events_stack, db):
    _stack, api, sandbox = events_stack
    now = time.time()
    # bought 35-40 Amazon minutes ago: past Pending, their next change an Amazon hour (a real minute) away
    ids = set(generate(sandbox, 5, now - 40 * 60 / SCALE, now - 35 * 60 / SCALE))

    def imported() -> bool:
        found = db.execute("SELECT count(*) FROM mip.orders WHERE amazon_order_id = ANY(%s)", (sorted(ids),))
        return found.fetchone()[0] == len(ids)

    wait_until(imported, timeout=300, every=1, progress=lambda: api.task_progress([EVENTS_DAG]), what="the orders")
    assert_matches_truth(db, sandbox, "it", "IT", ids)
    runs = runs_of(api, EVENTS_DAG)
    assert runs and all(r["run_type"] == "asset_triggered" for r in runs.values()), runs
    outcomes = db.execute(
        "SELECT amazon_order_id, outcome FROM mip.order_events WHERE amazon_order_id = ANY(%s)", (sorted(ids),)
    ).fetchall()
    assert {o for o, _ in outcomes} == ids and {outcome for _, outcome in outcomes} <= {"imported", "unchanged"}
