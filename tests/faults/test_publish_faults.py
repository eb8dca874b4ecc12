"""Publishing under faults, through ``dag.test()`` of ``mip_publish__it`` against a sandbox of this module's
own: 5xx bursts, a worker killed in the middle of a feed submission, a FATAL feed, partial acceptance.
Each case ends with mip.listings compared with the sandbox's listings and the sandbox's feeds compared
with mip.feed_submissions (no feed created twice, none created unrecorded). The cases build on one
catalog, in order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import ROOT
from tests.dags.conftest import task_states
from tests.faults.conftest import FaultRow, double_submissions, listing_mismatches, sandbox_feeds
from tests.publish.conftest import insert_products, product
from tests.publish.test_publish_dag import generated
from tests.waiting import cpu_seconds, wait_until

DAG_ID = "mip_publish__it"
IT = "APJ6JRA9NG5V4"
FIRST_DAY = datetime(2026, 8, 1, tzinfo=UTC)
# dag.test() of one DAG in a process of its own (the "worker" the test kills); same run_after -> same run id
CHILD = r"""
import sys
from datetime import datetime
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).get_dag(sys.argv[2])
dag.test(run_after=datetime.fromisoformat(sys.argv[3]), logical_date=datetime.fromisoformat(sys.argv[4]))
"""


class Days:
    """A new logical date for every run of this module."""

    day = 0

    @classmethod
    def next(cls) -> datetime:
        cls.day += 1
        return FIRST_DAY + timedelta(days=cls.day)


@pytest.fixture(scope="module")
def catalog() -> dict:
    """The SKUs the first case published (module state: the later cases change some of them)."""
    return {}


def feed_ids(shop) -> set[str]:
    return {f["feedId"] for f in sandbox_feeds(shop)}


def stage_key(dag_run) -> str:
    return f"{dag_run.dag_id}/{dag_run.run_id}"


def change_costs(db, skus: list[str], amount: float) -> None:
    db.execute(
        "UPDATE mip.supplier_products SET cost_price = cost_price + %s WHERE 'MIP-' || reference = ANY(%s)",
        (amount, skus),
    )
    db.commit()


def statuses(db, skus: list[str]) -> Counter:
    return Counter(
        dict(
            db.execute(
                "SELECT status, count(*) FROM mip.listings WHERE channel_id = 'it' AND sku = ANY(%s) GROUP BY 1",
                (skus,),
            ).fetchall()
        )
    )


def test_5xx_bursts_are_retried_and_the_listings_match_amazon(clean, connected, run_dag, db, catalog, fault_table):
    shop = connected
    insert_products(db, generated(40, seed=11))
    db.commit()
    known = feed_ids(shop)
    shop.set_faults(error_5xx_rate=0.4)
    dag_run = run_dag(DAG_ID, logical_date=Days.next())
    shop.reset_faults()
    calls = shop.admin("GET", "calls")
    errors = sum(v["errors_5xx"] for v in calls.values())
    mismatches = listing_mismatches(db, shop, "it", IT)
    double = double_submissions(db, shop, known)
    accepted = [
        sku for (sku,) in db.execute("SELECT sku FROM mip.listings WHERE channel_id = 'it' AND status = 'ACCEPTED'")
    ]
    fault_table(
        FaultRow(
            "5xx bursts",
            1,
            None,
            None,
            double,
            f"0 ({errors} of {sum(v['calls'] for v in calls.values())} calls answered 5xx, retried); "
            f"{len(accepted)} SKUs accepted",
        )
    )
    assert str(dag_run.state) == "success", task_states(dag_run)
    assert errors >= 1, f"the fault must have hit: {calls}"
    assert double == 0 and mismatches == []
    assert len(accepted) > 20
    catalog["skus"] = sorted(accepted)


@pytest.mark.parametrize("moment", ["before createFeed", "after createFeed"])
def test_a_worker_killed_during_a_submission_is_resumed_without_a_second_feed(
    moment, connected, rerun, db, mip_url, catalog, tmp_path, fault_table
):
    """The worker dies with the submission 'submitting': before its createFeed reached Amazon (the re-run
    creates the feed, once) or after Amazon created the feed but before the worker recorded its id (the
    re-run finds it with getFeeds and adopts it). The sandbox holds createFeed (the ``hold`` fault) until
    the test has the worker where it wants it, however slow the machine."""
    from mip.store.db import connect

    shop = connected
    skus = catalog["skus"][:4] if moment == "before createFeed" else catalog["skus"][4:8]
    change_costs(db, skus, 2)
    known = feed_ids(shop)
    run_after, logical_date = datetime.now(UTC).replace(microsecond=0), Days.next()
    stage_run = f"{DAG_ID}/manual__{run_after.isoformat()}"
    log = tmp_path / "worker.log"
    shop.set_faults(hold=["createFeed"])
    with connect(mip_url, autocommit=True) as watcher, connect(mip_url) as holder, open(log, "wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(ROOT / "dags"), DAG_ID, run_after.isoformat(), logical_date.isoformat()],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:

            def create_feed_held() -> bool:
                assert worker.poll() is None, f"the worker ended early:\n{log.read_text()[-3000:]}"
                return shop.held("createFeed") == 1

            wait_until(
                create_feed_held,
                timeout=120,
                every=0.5,
                progress=lambda: cpu_seconds(worker.pid),
                what="the worker's createFeed to arrive (held by the sandbox)",
            )
            (submission_id,) = db.execute(
                "SELECT id FROM mip.feed_submissions WHERE run_id = %s AND status = 'submitting'", (stage_run,)
            ).fetchone()
            db.commit()
            if moment == "after createFeed":
                # Hold the row, let createFeed go: Amazon creates the feed, the worker blocks recording it...
                holder.execute("SELECT 1 FROM mip.feed_submissions WHERE id = %s FOR UPDATE", (submission_id,))
                assert shop.release("createFeed") == 1
                wait_until(
                    lambda: watcher.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE "
                        "'UPDATE mip.feed_submissions%%' AND pid <> pg_backend_pid()"
                    ).fetchone(),
                    timeout=120,
                    progress=lambda: cpu_seconds(worker.pid),
                    what="the worker to wait for the row",
                )
            # ...and dies there (or, before createFeed, while its call waits at Amazon's door)
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(60)
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(60)
            holder.rollback()
            shop.release("createFeed", "drop")  # the dead worker's call never reaches Amazon
            shop.reset_faults()
    status_after_kill, feed_after_kill = db.execute(
        "SELECT status, feed_id FROM mip.feed_submissions WHERE id = %s", (submission_id,)
    ).fetchone()
    created_while_killed = feed_ids(shop) - known

    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:  # the killed run, as the worker left it
        killed = session.query(DagRun).filter_by(dag_id=DAG_ID, logical_date=logical_date).one()
        session.expunge(killed)
    resumed = rerun(killed)
    created = feed_ids(shop) - known
    double = double_submissions(db, shop, known)
    recorded = db.execute("SELECT feed_id, status FROM mip.feed_submissions WHERE id = %s", (submission_id,)).fetchone()
    mismatches = listing_mismatches(db, shop, "it", IT)
    fault_table(
        FaultRow(
            "worker killed during a feed submission",
            2,
            None,
            None,
            double,
            f"0 (SIGKILL {moment}: {len(created_while_killed)} feed on Amazon, "
            + ("adopted by the re-run)" if created_while_killed else "created once by the re-run)"),
        )
    )

    assert (status_after_kill, feed_after_kill) == ("submitting", None)
    assert len(created_while_killed) == (1 if moment == "after createFeed" else 0), created_while_killed
    assert resumed.run_id == killed.run_id and str(resumed.state) == "success", task_states(resumed)
    assert len(created) == 1 and recorded == (next(iter(created)), "applied"), (created, recorded)
    assert created >= created_while_killed, "the re-run adopted the feed Amazon had"
    assert double == 0 and mismatches == []
    assert statuses(db, skus) == {"ACCEPTED": 4}


def test_a_fatal_feed_changes_nothing_and_the_next_run_sends_it_again(connected, run_dag, db, catalog, fault_table):
    shop = connected
    skus = catalog["skus"][8:13]
    change_costs(db, skus, 3)
    known = feed_ids(shop)
    shop.set_faults(fatal_feeds=1)
    failed = run_dag(DAG_ID, logical_date=Days.next())
    failed_states = task_states(failed)
    shop.reset_faults()
    after_fatal = statuses(db, skus)
    mismatches_after_fatal = listing_mismatches(db, shop, "it", IT)
    recovered = run_dag(DAG_ID, logical_date=Days.next())
    double = double_submissions(db, shop, known)
    mismatches = listing_mismatches(db, shop, "it", IT)
    fault_table(
        FaultRow(
            "FATAL feed",
            2,
            None,
            None,
            double,
            f"{after_fatal['FEED_FATAL']} SKUs FEED_FATAL (4000005), nothing applied; sent again by the next run",
        )
    )

    assert failed_states["acceptance_gate"] == "failed" and failed_states["apply"] == "success", failed_states
    assert after_fatal == {"FEED_FATAL": 5}
    assert mismatches_after_fatal == [], "a FATAL feed changed nothing on Amazon, and mip.listings knows it"
    assert str(recovered.state) == "success", task_states(recovered)
    assert statuses(db, skus) == {"ACCEPTED": 5}
    assert double == 0 and mismatches == []


def test_partial_acceptance_keeps_each_sku_as_amazon_has_it(connected, run_dag, db, catalog, fault_table):
    shop = connected
    new = [product(f"PARTIAL{i:02d}") for i in range(12)]
    insert_products(db, new)
    db.commit()
    changed = catalog["skus"][15:27]
    change_costs(db, changed, 1)
    known = feed_ids(shop)
    shop.set_faults(partial_acceptance=0.4)
    partial = run_dag(DAG_ID, logical_date=Days.next())
    partial_states = task_states(partial)
    shop.reset_faults()
    codes = db.execute(
        "SELECT issue_codes, message_count, accepted_count FROM mip.feed_submissions WHERE dag_id = %s AND run_id = %s",
        (DAG_ID, stage_key(partial)),
    ).fetchall()
    rejected = Counter()
    for issue_codes, _, _ in codes:
        rejected.update(issue_codes)
    sent = sum(m for _, m, _ in codes)
    mismatches_after_partial = listing_mismatches(db, shop, "it", IT)
    retry = run_dag(DAG_ID, logical_date=Days.next())
    double = double_submissions(db, shop, known)
    mismatches = listing_mismatches(db, shop, "it", IT)
    fault_table(
        FaultRow(
            "partial acceptance",
            2,
            None,
            None,
            double,
            f"{sum(rejected.values())} of {sent} messages rejected ("
            + ", ".join(f"{code} x{n}" for code, n in rejected.most_common())
            + "), sent again by the "
            "next run",
        )
    )

    assert partial_states["apply"] == "success", partial_states
    assert 0 < sum(rejected.values()) < sent
    assert mismatches_after_partial == [], "accepted SKUs are on Amazon as stored, rejected ones as they were"
    assert str(retry.state) == "success", task_states(retry)
    assert double == 0 and mismatches == []
    stored = statuses(db, changed + [f"MIP-{p['reference']}" for p in new])
    assert set(stored) == {"ACCEPTED"} and stored["ACCEPTED"] > len(changed), stored
