"""``mip.catalog_versions``: one row per ingested catalog drop, with its checksum and counts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from mip.store.db import one


@dataclass
class IngestResult:
    """What an ingest did; small and JSON-serialisable (it is the ingest task's XCom).

    ``status``: ``loaded`` (the drop is the catalog now), ``unchanged`` (byte-identical to the last
    loaded drop, nothing read), ``refused`` (too many rejections or removals: nothing changed in
    ``mip.supplier_products``, the rejections are recorded). ``changed`` is true when a product was
    inserted, updated or marked removed.
    """

    status: str
    changed: bool
    version_id: int | None
    checksum: str
    source_dir: str
    products_file: str
    run_id: str
    records: int = 0
    loaded: int = 0
    rejected_rows: int = 0
    rejected_by_rule: dict[str, int] = field(default_factory=dict)
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    reason: str | None = None
    seconds: float = 0.0
    files: list[dict[str, Any]] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)  # the first rejection messages
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step (checksum, read, write, ...)

    @property
    def rejected_records(self) -> int:
        return self.records - self.loaded

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_COLUMNS = (
    "id",
    "checksum",
    "status",
    "changed",
    "run_id",
    "source_dir",
    "products_file",
    "files",
    "records",
    "loaded",
    "rejected_rows",
    "rejected_by_rule",
    "inserted",
    "updated",
    "unchanged",
    "removed",
    "reason",
    "seconds",
)


def next_id(conn: psycopg.Connection) -> int:
    return one(conn.execute("SELECT nextval(pg_get_serial_sequence('mip.catalog_versions', 'id'))"))[0]


def record(conn: psycopg.Connection, result: IngestResult) -> None:
    values = [
        result.version_id,
        result.checksum,
        result.status,
        result.changed,
        result.run_id,
        result.source_dir,
        result.products_file,
        json.dumps(result.files),
        result.records,
        result.loaded,
        result.rejected_rows,
        json.dumps(result.rejected_by_rule),
        result.inserted,
        result.updated,
        result.unchanged,
        result.removed,
        result.reason,
        result.seconds,
    ]
    conn.execute(
        f"INSERT INTO mip.catalog_versions ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})",
        values,
    )


def latest_loaded(conn: psycopg.Connection) -> dict[str, Any] | None:
    """The last drop that became the catalog (status ``loaded``), as a dict of its columns."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT * FROM mip.catalog_versions WHERE status = 'loaded' ORDER BY id DESC LIMIT 1"
        ).fetchone()
