"""Ingest a supplier catalog drop into ``mip.supplier_products`` (the ``mip_catalog_sync`` DAG's work).

One drop = products (CSV or JSON lines), prices and stock, each a *full* catalog. The ingest

1. checksums the three files; a drop byte-identical to the last loaded one is not read again;
2. reads and checks it (``mip.catalog.drop.read_drop``): every bad line becomes a rejection, every
   other product is compared with the stored one by content hash;
3. refuses the drop, changing no product, when more than ``max_rejected_fraction`` of its product
   lines are rejected or when it would remove more than ``max_removed_fraction`` of the products
   (a truncated file must not empty the shop); the rejections are still recorded;
4. otherwise upserts the new and changed products with COPY (``mip.store.bulk.bulk_upsert``), marks
   the products the drop no longer lists as removed (``removed_at``; cleared if one comes back);
5. records the rejections (``mip.rejected_rows``, replacing the run's earlier ones, so a retried task
   does not count twice) and the drop (``mip.catalog_versions``).

A product whose line is rejected keeps its stored row untouched: it is still in the supplier's
catalog, so it is neither updated nor removed. Everything happens in one transaction holding an
advisory lock, so concurrent ingests queue and a failure leaves no trace.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from mip.catalog import normalise, rejections, versions
from mip.catalog.drop import ParsedDrop, ReadOptions, read_drop
from mip.catalog.reader import CHUNK_ROWS
from mip.catalog.supplier_format import drop_files
from mip.catalog.versions import IngestResult
from mip.settings.base import DEFAULT_LANGUAGE
from mip.store.bulk import bulk_upsert

LOCK = "mip.catalog_ingest"
UPSERT_ROWS = 10_000


@dataclass(frozen=True)
class IngestOptions:
    default_language: str = DEFAULT_LANGUAGE
    max_rejected_fraction: float = 0.05
    max_removed_fraction: float = 0.2
    force: bool = False  # read the drop even when it is byte-identical to the last loaded one
    chunk_rows: int = CHUNK_ROWS
    spill_rows: int = 20_000

    def read_options(self) -> ReadOptions:
        return ReadOptions(self.default_language, self.chunk_rows, self.spill_rows)


def drop_checksum(paths: list[Path]) -> tuple[str, list[dict]]:
    """SHA-256 of the drop (each file's name and content), and per file its size and SHA-256."""
    files, combined = [], hashlib.sha256()
    for path in paths:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
        files.append({"name": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()})
        combined.update(f"{path.name}\0{digest.hexdigest()}\n".encode())
    return combined.hexdigest(), files


class _Clock:
    def __init__(self, result: IngestResult):
        self.result, self.last = result, time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.result.phases[name] = round(now - self.last, 3)
        self.last = now


def ingest_directory(
    conn: psycopg.Connection,
    directory: str | Path,
    *,
    run_id: str | None = None,
    options: IngestOptions | None = None,
) -> IngestResult:
    """Ingest the drop in ``directory``; see the module docstring.

    Runs in a transaction block of ``conn`` (a savepoint when the caller already has a transaction:
    then the caller's commit makes it durable).
    """
    options = options or IngestOptions()
    started = time.perf_counter()
    directory = Path(directory)
    products_path, prices_path, stock_path = drop_files(directory)
    checksum, files = drop_checksum([products_path, prices_path, stock_path])
    run_id = run_id or f"catalog_{datetime.now(UTC):%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:6]}"
    result = IngestResult(
        status="loaded",
        changed=False,
        version_id=None,
        checksum=checksum,
        source_dir=str(directory),
        products_file=products_path.name,
        run_id=run_id,
        files=files,
    )
    clock = _Clock(result)
    clock.last = started
    clock("checksum")

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (LOCK,))
        last = versions.latest_loaded(conn)
        if last and last["checksum"] == checksum and not options.force:
            return _unchanged(result, last, started)
        stored: dict[str, str] = dict(
            conn.execute(
                "SELECT reference, content_hash FROM mip.supplier_products WHERE removed_at IS NULL"
            ).fetchall()
        )
        result.version_id = versions.next_id(conn)
        clock("stored_hashes")
        with tempfile.TemporaryDirectory(prefix="mip-catalog-") as spill:
            drop = read_drop(products_path, prices_path, stock_path, stored, Path(spill), options.read_options(), clock)
            _summarise(result, drop)
            removed = [reference for reference in stored if reference not in drop.present]
            result.reason = _refusal(result, len(removed), len(stored), options)
            if result.reason:
                result.status = "refused"
            else:
                _write_products(conn, result, drop, removed)
            clock("write_products")
        rejections.write(conn, drop.rejections, run_id, [products_path.name, prices_path.name, stock_path.name])
        clock("write_rejections")
        result.seconds = round(time.perf_counter() - started, 3)
        versions.record(conn, result)
    return result


def _unchanged(result: IngestResult, last: dict, started: float) -> IngestResult:
    result.status, result.version_id = "unchanged", last["id"]
    for name in ("records", "loaded", "rejected_rows", "rejected_by_rule"):
        setattr(result, name, last[name])
    result.unchanged = last["loaded"]
    result.reason = f"the drop is identical to catalog version {last['id']} (run {last['run_id']})"
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _summarise(result: IngestResult, drop: ParsedDrop) -> None:
    result.records, result.loaded = drop.records, drop.loaded
    result.rejected_rows = len(drop.rejections)
    result.rejected_by_rule = dict(sorted(Counter(r.rule for r in drop.rejections).items()))
    result.examples = [rejections.loggable(r) for r in sorted(drop.rejections, key=lambda r: (r.source, r.line))[:20]]


def _write_products(conn: psycopg.Connection, result: IngestResult, drop: ParsedDrop, removed: list[str]) -> None:
    loaded_at = datetime.now(UTC)
    for frame in drop.changed:
        for start in range(0, len(frame), UPSERT_ROWS):
            rows = normalise.table_rows(
                frame.iloc[start : start + UPSERT_ROWS],
                source_file=drop.products_file,
                catalog_version=str(result.version_id),
                loaded_at=loaded_at,
            )
            # tuples: psycopg's row-by-row COPY is several times faster than the DataFrame-to-CSV path
            written = bulk_upsert(
                conn,
                "mip.supplier_products",
                normalise.TABLE_COLUMNS,
                rows.itertuples(index=False, name=None),
                ["reference"],
            )
            result.inserted += written.inserted
            result.updated += written.updated
    if removed:
        result.removed = conn.execute(
            "UPDATE mip.supplier_products SET removed_at = %s WHERE reference = ANY(%s) AND removed_at IS NULL",
            (loaded_at, removed),
        ).rowcount
    result.unchanged = result.loaded - result.inserted - result.updated
    result.changed = bool(result.inserted or result.updated or result.removed)


def _refusal(result: IngestResult, removing: int, active: int, options: IngestOptions) -> str | None:
    if result.records == 0:
        return f"{result.products_file} has no product lines; an empty drop is refused"
    share = result.rejected_records / result.records
    if share > options.max_rejected_fraction:
        top = ", ".join(
            f"{rule} {count}" for rule, count in sorted(result.rejected_by_rule.items(), key=lambda kv: -kv[1])[:5]
        )
        return (
            f"{result.rejected_records} of {result.records} product lines ({share:.1%}) are rejected, more than "
            f"the {options.max_rejected_fraction:.1%} allowed (by rule: {top}); nothing was loaded"
        )
    if active and removing / active > options.max_removed_fraction:
        return (
            f"the drop would remove {removing} of {active} products ({removing / active:.1%}), more than the "
            f"{options.max_removed_fraction:.1%} allowed; a truncated file? Nothing was loaded (run with a "
            "higher max_removed_fraction if the supplier really dropped them)"
        )
    return None
