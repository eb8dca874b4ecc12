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


# The tasks that call Amazon, by pipeline (a task id, or a prefix before "__"): each runs in an account's
# pool (sp_api__<account>), which shares that account's SP-API rate budget across DAGs and runs.
SP_API_TASKS = {
    "orders": {"extract", "wait_report", "download_report", "items"},
    "publish": {"submit", "wait", "apply"},
    "offers": {"submit", "wait", "apply"},
    "verify_international": {"request_listings", "wait_listings", "compare", "check_main_seller"},
    "migrate_csv": {
        "request_listings",
        "wait_listings",
        "stage_listings",
        "submit_deletes",
        "wait_feeds",
        "apply_results",
        "verify_deleted",
    },
    "account_health": {"check"},
    "repair": {"find_gaps"},  # reads a previous seller's authorization (getMarketplaceParticipations)
}


def _pipeline(dag) -> str:
    tagged = [t.split(":", 1)[1] for t in dag.tags if t.startswith("pipeline:")]
    return tagged[0] if tagged else dag.dag_id.removeprefix("mip_").split("__")[0]


def _calls_amazon(pipeline: str, task_id: str) -> bool:
    return any(task_id == name or task_id.startswith(name + "__") for name in SP_API_TASKS.get(pipeline, ()))


def test_every_sp_api_task_runs_in_an_account_pool(dagbag):
    seen: set[tuple[str, str]] = set()
    for dag_id, dag in dagbag.dags.items():
        pipeline = _pipeline(dag)
        for task in dag.tasks:
            if _calls_amazon(pipeline, task.task_id):
                seen.add((pipeline, task.task_id.split("__")[0]))
                assert task.pool.startswith("sp_api__"), f"{dag_id}.{task.task_id} calls SP-API in pool {task.pool}"
    listed = {(p, t) for p, ids in SP_API_TASKS.items() for t in ids}
    # a renamed task must be renamed here too (check_main_seller exists only where the sellers differ)
    assert listed - seen <= {("verify_international", "check_main_seller")}, listed - seen


def _setting(task, name: str):
    """A constructor argument of a task, mapped or not."""
    return task.partial_kwargs.get(name) if hasattr(task, "partial_kwargs") else getattr(task, name, None)


def test_every_wait_reschedules_or_defers(dagbag):
    """A waiting task holds no worker slot: sensors reschedule (or defer), other waits defer to a trigger."""
    from airflow.sdk.bases.sensor import BaseSensorOperator

    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            kind = task.operator_class if hasattr(task, "partial_kwargs") else type(task)
            deferrable = bool(_setting(task, "deferrable"))
            if isinstance(kind, type) and issubclass(kind, BaseSensorOperator):
                assert _setting(task, "mode") == "reschedule" or deferrable, f"{dag_id}.{task.task_id} pokes"
            if _setting(task, "wait_for_completion"):
                assert deferrable, f"{dag_id}.{task.task_id} waits in a worker slot"
