"""``mip_catalog_sync`` (hourly): load the supplier's catalog drop into ``mip.supplier_products``.

Account-independent (one DAG per deployment). ``ingest`` -> ``report_rejections`` -> ``publish_catalog_version``;
the last emits the ``CATALOG_ASSET`` event only when products were inserted, updated or removed, so
DAGs scheduled on it (publishing) run once per real catalog change.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import DAG, Asset, Param, task

from mip.airflow.common import DEFAULT_ARGS, START_DATE, skip
from mip.airflow.docs import pipeline_doc
from mip.config import Topology

log = logging.getLogger(__name__)

DAG_ID = "mip_catalog_sync"
# the DAG's Params, which are the keywords of mip.catalog.steps.ingest
INGEST_PARAMS = ("supplier_dir", "max_rejected_fraction", "max_removed_fraction", "force")
CATALOG_ASSET = Asset(name="supplier_catalog", uri="mip://catalog/supplier")


@task
def ingest(params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Ingest the drop; returns the (small) ``IngestResult`` as a dict."""
    from mip.airflow.adapter import run_account_step
    from mip.catalog import steps

    given = params or {}
    chosen = {name: given[name] for name in INGEST_PARAMS if name in given}  # not the run conf's other keys
    return run_account_step(steps.ingest, None, **chosen)


@task
def report_rejections(result: dict[str, Any]) -> None:
    """Log the rejections by rule; fail when the drop was refused."""
    from mip.airflow.adapter import failures_as_airflow
    from mip.catalog import steps

    with failures_as_airflow():
        steps.report_rejections(result)


@task(outlets=[CATALOG_ASSET])
def publish_catalog_version(result: dict[str, Any]) -> None:
    """Emit the catalog asset event, only when products changed."""
    from airflow.sdk import get_current_context

    if not result["changed"]:
        skip(f"the catalog did not change ({result['status']}): no asset event")
    extra = {name: result[name] for name in ("version_id", "checksum", "loaded", "inserted", "updated", "removed")}
    get_current_context()["outlet_events"][CATALOG_ASSET].extra = extra
    log.info("catalog version %s: asset %s updated (%s)", result["version_id"], CATALOG_ASSET.uri, extra)


def build(topology: Topology | None = None) -> DAG:
    """The DAG (``topology`` is accepted for the factories' signature; the catalog does not use it)."""
    with DAG(
        dag_id=DAG_ID,
        schedule="@hourly",
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["pipeline:catalog_sync", "scope:supplier"],
        doc_md=pipeline_doc("catalog_sync"),
        description="Loads the supplier's catalog drop into mip.supplier_products",
        params={
            "supplier_dir": Param(
                None,
                type=["null", "string"],
                description="The drop folder, inside MIP_IMPORTS_DIR (a relative name is taken from there) or "
                "MIP_SUPPLIER_DIR; empty = MIP_SUPPLIER_DIR (default <repo>/.local/supplier)",
            ),
            "max_rejected_fraction": Param(
                0.05,
                type="number",
                minimum=0,
                maximum=1,
                description="Refuse the drop above this share of rejected product lines",
            ),
            "max_removed_fraction": Param(
                0.2,
                type="number",
                minimum=0,
                maximum=1,
                description="Refuse the drop when it would remove more of the products",
            ),
            "force": Param(False, type="boolean", description="Ingest even if identical to the last loaded drop"),
        },
    ) as dag:
        result: Any = ingest()  # an XComArg, resolved to the dict when the tasks run
        report_rejections(result) >> publish_catalog_version(result)
    return dag
