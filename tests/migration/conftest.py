"""Migration tests: the demo catalog in mip, sandboxes holding the demo's CSV-era listings, helpers."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest

from tests.conftest import use_sandbox_connection

with contextlib.suppress(ImportError):
    from tests.alerts.conftest import alert_receivers, alerts  # noqa: F401
    from tests.dags.conftest import dagbag, run_dag  # noqa: F401

DEMO = "A1MIPDEMOSELLER"
MIGRATION_TABLES = (
    "mip.migration_audit, mip.migration_plans, mip.migration_plan_headers, mip.migration_listings, mip.migration_inputs"
)


def seeded_truth(seed: int = 1):
    from sandbox.spapi.demo_listings import csv_era_manifest

    return csv_era_manifest(seed)


def expected_planned(country: str, seed: int = 1) -> set[str]:
    from sandbox.spapi.demo_listings import PLANNED_KINDS

    return {t.sku for t in seeded_truth(seed) if t.country == country and t.kind in PLANNED_KINDS}


def precision_recall(planned: set[str], expected: set[str]) -> tuple[float, float]:
    hits = len(planned & expected)
    return (hits / len(planned) if planned else 1.0), (hits / len(expected) if expected else 1.0)


def sandbox_listings(sandbox, country: str) -> dict[str, dict[str, Any]]:
    return {r["sku"]: r for r in sandbox.admin("GET", "listings", params={"seller_id": DEMO, "country": country})}


@pytest.fixture(scope="module")
def demo_catalog(tmp_path_factory, mip_url):
    """The demo supplier catalog (sandbox.catalog, 5000 products, seed 1) ingested into mip.supplier_products."""
    from mip.catalog.ingest import IngestOptions, ingest_directory
    from mip.store.db import connect
    from sandbox import catalog

    folder = tmp_path_factory.mktemp("demo-supplier")
    catalog.write_catalog(folder, count=5000, seed=1)
    with connect(mip_url) as conn:
        conn.execute("TRUNCATE mip.supplier_products, mip.catalog_versions, mip.listings")
        result = ingest_directory(conn, folder, options=IngestOptions(force=True))
        conn.commit()
    assert result.status == "loaded", result.reason
    return folder


@pytest.fixture
def clean_migration(db, demo_catalog):
    db.execute(f"TRUNCATE {MIGRATION_TABLES}")
    db.execute("DELETE FROM mip.rejected_rows WHERE source LIKE 'migrate_csv:%'")
    db.execute("DELETE FROM mip.listings")
    # every sandbox numbers its feeds from the start: feeds of another module's sandbox would collide
    db.execute("DELETE FROM mip.feed_submissions WHERE seller_id = %s", (DEMO,))
    db.commit()
    yield db
    db.rollback()
    db.execute("DELETE FROM mip.feed_submissions WHERE batch_key LIKE 'migrate:%'")
    db.commit()


@pytest.fixture(scope="module")
def migration_sandbox(tmp_path_factory):
    """A sandbox of the module's own with the demo state (CSV-era listings), fast Amazon time."""
    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path_factory.mktemp("migration-spapi"), time_scale=600.0) as running:
        yield running


def publish_mip_copies(sandbox, db, country: str, references, *, buyable: bool = True) -> None:
    """MIP's own listings of ``references`` on Amazon, as mip_publish leaves them (seeded in the sandbox);
    ``buyable`` False: listed without stock (Amazon shows it, nobody can buy it)."""
    language = country.lower()
    rows = db.execute(
        "SELECT reference, ean, brand, coalesce(names ->> %s, names ->> 'en') FROM mip.supplier_products "
        "WHERE reference = ANY(%s)",
        (language, sorted(references)),
    ).fetchall()
    assert len(rows) == len(set(references)), "every reference is a catalog product"
    listings = [
        {
            "sku": f"MIP-{reference}",
            "item_name": name,
            "brand": brand,
            "gtin": ean,
            "gtin_type": "ean",
            "price": "24.99",
            "quantity": 5 if buyable else 0,
            "source": "mip",
        }
        for reference, ean, brand, name in rows
    ]
    sandbox.admin("POST", "listings/seed", json={"seller_id": DEMO, "country": country, "listings": listings})


def expected_references(country: str, seed: int = 1) -> set[str]:
    """The catalog products whose CSV-era duplicates the plan deletes."""
    from sandbox.spapi.demo_listings import PLANNED_KINDS

    return {t.reference for t in seeded_truth(seed) if t.country == country and t.kind in PLANNED_KINDS}


def use_connection(monkeypatch, sandbox) -> dict:
    """The demo account's connection pointing at ``sandbox`` for dag.test runs, with fresh rate buckets."""
    extra = use_sandbox_connection(monkeypatch, sandbox)
    sandbox.admin("POST", "reset-rate-limits")
    return extra


def stage_report(db, gateway, channel_id: str, run_id: str) -> None:
    """A fresh listings report of the channel, staged and gated for ``run_id`` (the pipeline's functions)."""
    from mip.amazon.reports import create_report, download_report, get_report
    from mip.config import load_topology
    from mip.migration import stage
    from mip.migration.listings_file import parse
    from mip.runs import RunKey

    channel = load_topology().channel(channel_id)
    key = RunKey(channel, run_id, "test_migration", "plan")
    report_id = create_report(
        gateway, channel.country, "GET_MERCHANT_LISTINGS_ALL_DATA", [channel.marketplace.marketplace_id]
    )
    stage.record_input(db, key, "report", report_id=report_id)
    report = wait_until(
        lambda: (r := get_report(gateway, channel.country, report_id))["processingStatus"] == "DONE" and r,
        what="the listings report",
    )
    text = download_report(gateway, channel.country, report["reportDocumentId"])
    stage.stage(db, key, parse(text.encode("utf-8"), f"report {report_id}"))
    db.commit()
    result, rejected = stage.gate(db, key)
    db.commit()
    assert result.passed and rejected == 0, result.message()


def plan_from_report(db, gateway, channel_id: str, run_id: str, max_delete_fraction: float = 0.2):
    """Plan from the sandbox's listings report through the pipeline's functions (no Airflow)."""
    from mip.config import load_topology
    from mip.migration.plan import PlanContext, build_plan

    stage_report(db, gateway, channel_id, run_id)
    topology = load_topology()
    channel = topology.channel(channel_id)
    context = PlanContext(channel, topology.account_of(channel), run_id, "test_migration", "tester")
    return build_plan(db, context, max_delete_fraction=max_delete_fraction)


def wait_until(check, timeout: float = 60, every: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)
