"""The catalog sync's steps as ``mip_catalog_sync`` runs them, one per task, logging their counts.

The catalog belongs to the deployment, not to a channel: ``ingest`` takes an ``AccountRunKey`` whose
account is None (``mip.airflow.adapter.run_account_step``). ``StepFailed`` (``mip.runs``) fails the task at
once: a refused ``supplier_dir`` or a refused drop would fail again on retry.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from mip.runs import AccountRunKey, StepFailed

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)


def ingest(
    key: AccountRunKey,
    conn: psycopg.Connection,
    *,
    supplier_dir: str | None = None,
    max_rejected_fraction: float = 0.05,
    max_removed_fraction: float = 0.2,
    force: bool = False,
) -> dict[str, Any]:
    """Ingest the drop in ``supplier_dir`` (default ``MIP_SUPPLIER_DIR``); returns the small ``IngestResult``
    as a dict. A folder outside ``MIP_IMPORTS_DIR`` and ``MIP_SUPPLIER_DIR`` is refused."""
    from mip.catalog.ingest import IngestOptions, ingest_directory
    from mip.catalog.supplier_format import supplier_dir as drop_folder
    from mip.config import load_topology
    from mip.paths import PathRefused

    try:
        directory = drop_folder(supplier_dir)
    except PathRefused as exc:
        raise StepFailed(str(exc)) from None
    options = IngestOptions(
        default_language=load_topology().catalog.language,
        max_rejected_fraction=float(max_rejected_fraction),
        max_removed_fraction=float(max_removed_fraction),
        force=bool(force),
    )
    log.info("ingesting the catalog drop in %s", directory)
    result = ingest_directory(conn, directory, run_id=key.run_id, options=options)
    log.info(
        "%s: %s product lines, %s valid, %s inserted, %s updated, %s unchanged, %s removed, %s rejected rows, "
        "%.1f s (catalog version %s)",
        result.status,
        result.records,
        result.loaded,
        result.inserted,
        result.updated,
        result.unchanged,
        result.removed,
        result.rejected_rows,
        result.seconds,
        result.version_id,
    )
    return result.to_dict()


def report_rejections(result: dict[str, Any]) -> None:
    """Log the ingest's rejections by rule, with examples; ``StepFailed`` when the drop was refused."""
    from mip.catalog.rejections import RULES

    counts = result["rejected_by_rule"]
    total = sum(counts.values())
    not_loaded = result["records"] - result["loaded"]
    share = not_loaded / result["records"] if result["records"] else 0.0
    log.info(
        "%d rejected row(s); %d of %d product lines not loaded (%.2f%%)",
        total,
        not_loaded,
        result["records"],
        100 * share,
    )
    for rule, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        log.info("  %s: %d — %s", rule, count, RULES.get(rule, ""))
    for message in result["examples"]:
        log.info("  e.g. %s", message)
    if total:
        log.info(
            "all of them: SELECT * FROM mip.rejected_rows WHERE run_id = '%s' ORDER BY source, line", result["run_id"]
        )
    if result["status"] == "refused":
        raise StepFailed(f"catalog drop in {result['source_dir']} refused: {result['reason']}")
