"""Fixtures of the catalog tests: generated drops and a clean catalog in the session's database."""

from __future__ import annotations

import pytest

# dag.test() helpers shared with tests/dags (a session-scoped DagBag of dags/)
from tests.dags.conftest import dagbag, run_dag  # noqa: F401

CATALOG_SOURCES = ["products.csv", "products.jsonl", "prices.csv", "stock.csv"]


@pytest.fixture
def clean_catalog(db):
    """No supplier products, catalog versions or catalog rejections before the test."""
    db.execute("TRUNCATE mip.supplier_products, mip.catalog_versions")
    db.execute("DELETE FROM mip.rejected_rows WHERE source = ANY(%s)", (CATALOG_SOURCES,))
    db.commit()
    return db
