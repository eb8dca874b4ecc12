"""Fixtures of the publishing tests: channels with publish settings, catalog products, clean tables."""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterable
from typing import Any

import pytest
from stdnum import ean

from mip.store.bulk import copy_rows
from tests.conftest import use_sandbox_connection

# The DAG fixtures (dagbag, run_dag) live with the DAG tests; share them here (if they move to
# tests/conftest.py they are available everywhere and this import finds nothing to share).
with contextlib.suppress(ImportError):
    from tests.dags.conftest import dagbag, run_dag  # noqa: F401

SELLER_ID = "A1MIPTESTSELLER"
PUBLISH_TABLES = "mip.stage_plan, mip.stage_price, mip.stage_offer, mip.listings, mip.supplier_products"
SUPPLIER_COLUMNS = (
    "reference",
    "ean",
    "brand",
    "category_path",
    "names",
    "descriptions",
    "images",
    "cost_price",
    "retail_price",
    "vat_class",
    "stock",
    "content_hash",
    "removed_at",
)


def channel_with(publish: str, country: str = "IT", channel_id: str = "it"):
    """A main channel with the given ``publish:`` block (YAML, as in channels.yaml)."""
    from mip.config import parse_topology

    text = (
        "accounts:\n"
        f"  - {{id: acme, seller_id: {SELLER_ID}, region: eu, connection_id: c}}\n"
        "channels:\n"
        f"  - id: {channel_id}\n    account: acme\n    country: {country}\n    role: main\n    publish:\n"
        + textwrap.indent(textwrap.dedent(publish).strip() + "\n", "      ")
    )
    return parse_topology(text, "test.yaml").channel(channel_id)


def ean13(body: str) -> str:
    """``body`` (12 digits) plus its check digit."""
    return body + ean.calc_check_digit(body)


def product(reference: str, **overrides: Any) -> dict[str, Any]:
    """A valid catalog product; ``overrides`` replace any column."""
    number = sum(ord(c) for c in reference) * 7919 + len(reference)
    row = {
        "reference": reference,
        "ean": ean13(f"80{number % 10**10:010d}"),
        "brand": "Lumera",
        "category_path": "Home & Kitchen > Kitchen > Knives",
        "names": {"it": f"Coltello {reference}", "de": f"Messer {reference}", "en": f"Knife {reference}"},
        "descriptions": {
            "it": f"Coltello {reference}. Lama in acciaio inox. Manico ergonomico.",
            "de": f"Messer {reference}. Klinge aus Edelstahl.",
            "en": f"Knife {reference}. Stainless steel blade.",
        },
        "images": [f"https://img.example/{reference}/1.jpg", f"https://img.example/{reference}/2.jpg"],
        "cost_price": 10.00,
        "retail_price": 29.90,
        "vat_class": "standard",
        "stock": 20,
        "content_hash": f"h-{reference}",
        "removed_at": None,
    }
    row.update(overrides)
    return row


def insert_products(conn, rows: Iterable[dict[str, Any]]) -> None:
    copy_rows(conn, "mip.supplier_products", SUPPLIER_COLUMNS, ([row[c] for c in SUPPLIER_COLUMNS] for row in rows))


@pytest.fixture
def clean(db):
    """Empty catalog, listings and stage tables (other test modules keep their own state)."""
    db.execute(f"TRUNCATE {PUBLISH_TABLES}")
    db.commit()
    return db


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path_factory.mktemp("publish-spapi"), time_scale=600.0) as running:
        yield running


@pytest.fixture
def connected(shop, monkeypatch):
    use_sandbox_connection(monkeypatch, shop)
    shop.reset_faults()
    shop.admin("POST", "reset-counters")
    yield shop
    shop.reset_faults()
