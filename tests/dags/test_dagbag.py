"""The DAG folder imports cleanly and every DAG follows MIP's conventions."""

from __future__ import annotations

import re

from mip.airflow.alerts import FailureAlert

DEMO_CHANNEL_DAGS = {
    "mip_publish__it",
    "mip_publish__de",
    "mip_offers__it",
    "mip_offers__de",
    "mip_verify_international__fr",
    "mip_verify_international__es",
    "mip_orders__it",
    "mip_orders__de",
    "mip_orders__fr",
    "mip_orders__es",
    "mip_migrate_csv__it",
    "mip_migrate_csv__de",
}


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


DEPLOYMENT_DAGS = {"mip_account_health", "mip_catalog_sync", "mip_repair__demo"}


def test_demo_topology_generates_one_dag_per_channel_and_pipeline(dagbag):
    assert set(dagbag.dag_ids) >= DEMO_CHANNEL_DAGS | DEPLOYMENT_DAGS
    assert not any(d.startswith("mip_publish__") for d in dagbag.dag_ids if d.endswith(("__fr", "__es")))


def test_every_dag_has_tags_owner_retries_and_docs(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert re.fullmatch(r"mip_[a-z_]+(__[a-z0-9_]+)?", dag_id), dag_id
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        for task in dag.tasks:
            assert task.owner == "mip", f"{dag_id}.{task.task_id} owner {task.owner}"
            # failures a retry cannot mend raise AirflowFailException, which skips the retries
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"
            # the last failure of every task is alerted (docs/alerts.md)
            callbacks = task.on_failure_callback or []
            assert any(isinstance(c, FailureAlert) for c in callbacks), f"{dag_id}.{task.task_id} is not alerted"


def test_channel_dags_are_tagged_with_pipeline_channel_and_account(dagbag):
    tags = set(dagbag.get_dag("mip_orders__fr").tags)
    assert {"pipeline:orders", "channel:fr", "account:demo", "role:international"} <= tags
    assert "Linked main channel" in dagbag.get_dag("mip_orders__fr").doc_md
