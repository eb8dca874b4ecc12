"""A linked channel on another seller account than its main channel's: when Amazon's BIL copied the main
channel's offers to the main seller's own account in that marketplace, the verification says the channel's
Seller ID is likely wrong (naming both), not that Build International Listings is not configured.

The topology adds the sandbox's account ``other`` (Seller ID A2MIPOTHERSELLER, selling in IT and FR, no BIL)
and its channel ``fr_other`` (FR, linked to ``it`` of account ``demo``, whose BIL copies IT to its own FR)."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import use_sandbox_connection
from tests.dags.conftest import task_states
from tests.international.conftest import DEMO, listings, publish, set_bil, use_connection, wait_copies

OTHER = "A2MIPOTHERSELLER"
DAG_ID = "mip_verify_international__fr_other"
DEFAULTS = {"copy_delay_hours": 24, "fail_missing_percent": 50, "exchange_rate": None}


@pytest.fixture
def other_channel(airflow_db, bil_sandbox, fresh, topology_file, tmp_path, monkeypatch):
    """``verify()`` runs mip_verify_international__fr_other (dag.test) with the demo and other connections."""
    from mip.airflow.pipelines.verify_international import build
    from mip.config import load_topology

    spec = yaml.safe_load(topology_file.read_text())
    spec["accounts"].append({"id": "other", "seller_id": OTHER, "region": "eu", "connection_id": "amazon_sp_api_other"})
    spec["channels"].append(
        {"id": "fr_other", "account": "other", "country": "FR", "role": "international", "linked_main": "it"}
    )
    path = tmp_path / "channels.yaml"
    path.write_text(yaml.safe_dump(spec))
    monkeypatch.setenv("MIP_CHANNELS_FILE", str(path))  # the tasks' topology, and the DAG folder's for dag.test
    use_connection(monkeypatch, bil_sandbox)
    use_sandbox_connection(monkeypatch, bil_sandbox, "other")
    topology = load_topology(path)
    dag = build(topology, topology.channel("fr_other"))
    dag.get_task("wait_listings").poke_interval = 0.3

    def verify():
        bil_sandbox.admin("POST", "reset-rate-limits")
        return dag.test(run_conf=DEFAULTS)

    verify.dag = dag
    return verify


def run_row(db, dag_run) -> dict:
    from mip.international.store import run_of

    return run_of(db, "fr_other", dag_run.run_id)


def test_copies_at_the_main_seller_say_the_channels_seller_id_is_likely_wrong(
    other_channel, bil_sandbox, db, alerts, capfd
):
    dag = other_channel.dag
    assert [t.task_id for t in dag.topological_sort()][-3:] == ["compare", "check_main_seller", "verdict"]
    assert dag.get_task("compare").pool == "sp_api__other" and dag.get_task("check_main_seller").pool == "sp_api__demo"
    skus = publish(bil_sandbox, db, [f"MIP-SID{n}" for n in range(4)])
    wait_copies(bil_sandbox, skus, "FR")  # BIL copied IT -> FR for the demo seller, its own FR account

    dag_run = other_channel()
    states = task_states(dag_run)
    assert (states["check_main_seller"], states["verdict"]) == ("success", "failed"), states
    run = run_row(db, dag_run)
    assert (run["status"], run["present"], run["seller_id"]) == ("failed", 0, OTHER)
    assert (run["main_seller_checked"], run["main_seller_copies"]) == (4, 4)
    assert (
        "Diagnosis: 4 of 4 missing offers checked are listed in FR under the main channel's Seller ID "
        f"{DEMO} (account demo): Amazon copies them to the main seller's own account, so the Seller ID of channel "
        f"fr_other ({OTHER}, account other) is likely wrong"
    ) in run["summary"]
    report = next(r for r in bil_sandbox.admin("GET", "reports") if r["reportId"] == run["report_id"])
    assert report["sellerId"] == OTHER, "the channel's own listings are read with its own account"

    out = capfd.readouterr()
    log = out.out + out.err
    assert (
        f"the Seller ID of channel fr_other is likely wrong: Amazon copies the offers of IT to FR under the main "
        f"channel's Seller ID {DEMO} (account 'demo'), while channel fr_other reads the listings of Seller ID "
        f"{OTHER} (account 'other'), which has none of them. Fix: if channel fr_other should sell through Seller "
        f"ID {DEMO}, give it account demo in the topology"
    ) in log
    assert "Build International Listings in Seller Central (Pricing" not in log
    verdict = next(t for t in dag_run.get_task_instances() if t.task_id == "verdict")
    assert verdict.try_number == 1, "a configuration problem fails at once"
    [mail] = alerts.mails
    assert mail.subject == f"[MIP] {DAG_ID} failed: channel fr_other (account other)"
    assert f"Fix: if channel fr_other should sell through Seller ID {DEMO}, give it account demo" in mail.text


def test_without_copies_at_the_main_seller_bil_is_not_configured(other_channel, bil_sandbox, db, capfd):
    set_bil(bil_sandbox, "FR", False)
    set_bil(bil_sandbox, "ES", True)
    try:
        skus = publish(bil_sandbox, db, [f"MIP-NOB{n}" for n in range(3)])
        wait_copies(bil_sandbox, skus, "ES")  # the BIL delay has passed: FR (off) has none of them
        assert not set(skus) & set(listings(bil_sandbox, "FR"))
        dag_run = other_channel()
    finally:
        set_bil(bil_sandbox, "FR", True)
        set_bil(bil_sandbox, "ES", False)
    states = task_states(dag_run)
    assert (states["check_main_seller"], states["verdict"]) == ("success", "failed"), states
    run = run_row(db, dag_run)
    assert (run["main_seller_checked"], run["main_seller_copies"]) == (3, 0)
    assert (
        f"Diagnosis: none of 3 missing offers checked is listed in FR under the main channel's Seller ID {DEMO} "
        f"(account demo): not a Seller ID mix-up between channel fr_other ({OTHER}) and its main channel"
    ) in run["summary"]
    out = capfd.readouterr()
    assert "offers of IT are not being copied to FR for account 'demo'. Fix: configure Build International" in (
        out.out + out.err
    )
