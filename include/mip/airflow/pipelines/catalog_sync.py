"""``mip_catalog_sync`` (hourly): load the supplier's catalog drop into ``mip.supplier_products``.

Account-independent (one DAG per deployment). ``ingest`` -> ``report_rejections`` -> ``publish_catalog_version``;
the last emits the ``CATALOG_ASSET`` event only when products were inserted, updated or removed, so
DAGs scheduled on it (publishing) run once per real catalog change.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, Asset, Param, task

from mip.airflow.common import DEFAULT_ARGS, START_DATE, skip
from mip.airflow.docs import pipeline_doc
from mip.config import Topology

DAG_ID = "mip_catalog_sync"
CATALOG_ASSET = Asset(name="supplier_catalog", uri="mip://catalog/supplier")

DOC = """### Supplier catalog sync

Hourly: reads the supplier's catalog drop (`products.csv` or `products.jsonl`, `prices.csv`,
`stock.csv`) from `MIP_SUPPLIER_DIR` (default `<repo>/.local/supplier`; the `supplier_dir` param
overrides it for a manual run with a folder inside `MIP_IMPORTS_DIR` or `MIP_SUPPLIER_DIR`, any other
path is refused) and loads it into `mip.supplier_products` with COPY.

- **ingest**: every line is checked (GTIN checksum, a name in the catalog language `catalog.language` of
  `channels.yaml` (default `en`), cost > 0, duplicate
  reference, encoding, column count, numbers, VAT class, price and stock present); bad lines go to
  `mip.rejected_rows` (file, line, reference, field, rule, value, message) and every other product
  loads. Only new or changed products are written (content hash); products the drop no longer lists
  get `removed_at`. A drop identical to the last one is skipped (`force` reads it anyway). The drop is
  recorded in `mip.catalog_versions`.
- **report_rejections**: logs the rejections by rule with examples; **fails** the run when the drop
  was refused: more than `max_rejected_fraction` (default 5%) of its product lines rejected, or more
  than `max_removed_fraction` (default 20%) of the products gone (a truncated file?). A refused drop
  changes no product.
- **publish_catalog_version**: emits the asset `mip://catalog/supplier` (extra: version, counts) when
  the catalog changed; skipped otherwise.

Inspect a run's rejections: `SELECT * FROM mip.rejected_rows WHERE run_id = '<run id>' ORDER BY source, line`.
"""


@task
def ingest() -> dict[str, Any]:
    """Ingest the drop; returns the (small) ``IngestResult`` as a dict."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.catalog.ingest import IngestOptions, ingest_directory
    from mip.catalog.supplier_format import supplier_dir
    from mip.config import load_topology
    from mip.paths import PathRefused

    context = get_current_context()
    params = context["params"]
    try:
        directory = supplier_dir(params.get("supplier_dir"))
    except PathRefused as exc:
        raise AirflowFailException(str(exc)) from None
    options = IngestOptions(
        default_language=load_topology().catalog.language,
        max_rejected_fraction=float(params["max_rejected_fraction"]),
        max_removed_fraction=float(params["max_removed_fraction"]),
        force=bool(params["force"]),
    )
    print(f"ingesting the catalog drop in {directory}")
    with mip_db() as conn:
        result = ingest_directory(conn, directory, run_id=context["run_id"], options=options)
    print(
        f"{result.status}: {result.records} product lines, {result.loaded} valid, {result.inserted} inserted, "
        f"{result.updated} updated, {result.unchanged} unchanged, {result.removed} removed, "
        f"{result.rejected_rows} rejected rows, {result.seconds:.1f} s (catalog version {result.version_id})"
    )
    return result.to_dict()


@task
def report_rejections(result: dict[str, Any]) -> None:
    """Log the rejections by rule; fail when the drop was refused."""
    from airflow.sdk.exceptions import AirflowFailException

    from mip.catalog.rejections import RULES

    counts = result["rejected_by_rule"]
    total = sum(counts.values())
    share = (result["records"] - result["loaded"]) / result["records"] if result["records"] else 0.0
    print(
        f"{total} rejected row(s); {result['records'] - result['loaded']} of {result['records']} product lines "
        f"not loaded ({share:.2%})"
    )
    for rule, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {rule}: {count} — {RULES.get(rule, '')}")
    for message in result["examples"]:
        print(f"  e.g. {message}")
    if total:
        print(f"all of them: SELECT * FROM mip.rejected_rows WHERE run_id = '{result['run_id']}' ORDER BY source, line")
    if result["status"] == "refused":
        raise AirflowFailException(f"catalog drop in {result['source_dir']} refused: {result['reason']}")


@task(outlets=[CATALOG_ASSET])
def publish_catalog_version(result: dict[str, Any]) -> None:
    """Emit the catalog asset event, only when products changed."""
    from airflow.sdk import get_current_context

    if not result["changed"]:
        skip(f"the catalog did not change ({result['status']}): no asset event")
    extra = {name: result[name] for name in ("version_id", "checksum", "loaded", "inserted", "updated", "removed")}
    get_current_context()["outlet_events"][CATALOG_ASSET].extra = extra
    print(f"catalog version {result['version_id']}: asset {CATALOG_ASSET.uri} updated ({extra})")


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
        result = ingest()
        report_rejections(result) >> publish_catalog_version(result)
    return dag
