"""Fulfilment tests: both stand-ins of the module's own (real HTTP), orders imported the real way, the truths.

The SP-API sandbox runs with ``--ship-on-confirmation`` (seller-fulfilled orders stay Unshipped until
confirmShipment) at time scale 1200, so generated orders are Unshipped at once; the supplier stand-in ships
when a test says so (``POST /_supplier/ship``), never on a timer.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from mip.config import load_topology
from mip.runs import RunKey
from tests.dags.conftest import dagbag, run_dag  # noqa: F401  (dag.test() fixtures, shared)

DEMO = "A1MIPDEMOSELLER"
SKUS = ["MIP-FUL-A", "MIP-FUL-B", "MIP-FUL-C"]
SCALE = 1200.0
TABLES = (
    "mip.fulfilment_orders, mip.fulfilment_events, mip.orders, mip.order_items, mip.stage_orders, "
    "mip.stage_order_items, mip.order_pages, mip.order_intervals"
)


@pytest.fixture(scope="module")
def spapi(tmp_path_factory):
    from sandbox.testing import run_sandbox

    with run_sandbox(
        tmp_path_factory.mktemp("fulfil-spapi"),
        time_scale=SCALE,
        extra_args=["--ship-on-confirmation", "--validate-responses"],
    ) as running:
        yield running
        violations = running.admin("GET", "contract-violations")["violations"]
    assert not violations, violations[:5]


@pytest.fixture(scope="module")
def supplier(tmp_path_factory):
    from sandbox.supplier.testing import run_supplier

    with run_supplier(tmp_path_factory.mktemp("fulfil-supplier"), time_scale=SCALE) as running:
        yield running


@pytest.fixture
def fresh(db, spapi, supplier):
    """Empty outbox and orders, the demo SKUs mapped to supplier references, no faults on either side."""
    db.execute(f"TRUNCATE {TABLES}")
    db.execute("DELETE FROM mip.listings WHERE sku = ANY(%s)", (SKUS,))
    for channel in ("it", "de"):
        for sku in SKUS:
            db.execute(
                "INSERT INTO mip.listings (channel_id, sku, marketplace_id, reference, status)"
                " VALUES (%s, %s, 'x', %s, 'ACCEPTED')",
                (channel, sku, f"REF-{sku}"),
            )
    db.commit()
    spapi.reset_faults()
    supplier.admin("DELETE", "faults")
    supplier.admin("POST", "purse", json={"amount": 1_000_000})
    yield db
    spapi.reset_faults()
    supplier.admin("DELETE", "faults")


@pytest.fixture
def client(supplier):
    from mip.fulfilment.supplier import SupplierClient

    return SupplierClient(supplier.base_url, supplier.api_key, base_delay=0.01)


def key(channel_id: str = "it", run_id: str = "run-1") -> RunKey:
    return RunKey(load_topology().channel(channel_id), run_id, "mip_fulfil__" + channel_id, "test", DEMO)


def import_orders(db, spapi, gateway, count: int, country: str = "IT", channel_id: str = "it") -> list[str]:
    """Generate ``count`` orders purchased an hour ago and import them with the real order import."""
    from mip.orders.importer import import_window
    from mip.orders.window import Window

    now = time.time()
    start = now - 3600 - 600
    body = {"seller_id": DEMO, "country": country, "count": count, "start": start, "end": start + 300, "skus": SKUS}
    ids = spapi.admin("POST", "orders/generate", json=body)["amazon_order_ids"]
    window = Window(_utc(start - 1), _utc(now - 300), _utc(now - 300))
    import_window(db, gateway, load_topology().channel(channel_id), f"import-{now}", window, path="api")
    db.commit()
    return ids


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def shippable(spapi, ids: list[str], country: str = "IT") -> set[str]:
    truth = {
        o["AmazonOrderId"]: o for o in spapi.admin("GET", "orders", params={"seller_id": DEMO, "country": country})
    }
    return {i for i in ids if truth[i]["OrderStatus"] == "Unshipped" and truth[i]["FulfillmentChannel"] == "MFN"}


def states(db, ids) -> dict[str, str]:
    rows = db.execute(
        "SELECT amazon_order_id, state FROM mip.fulfilment_orders WHERE amazon_order_id = ANY(%s)", (list(ids),)
    ).fetchall()
    return dict(rows)


def both_truths(db, spapi, supplier, ids: set[str], expected: set[str] | None = None) -> dict[str, Any]:
    """Compare the outbox with the supplier's and Amazon's truths: sent twice, lost (of ``expected``, the
    orders that were shippable: each must end confirmed, cancelled or refused), confirmations."""
    orders = [o for o in supplier.truth()["orders"] if o["reference"] in ids]
    by_reference: dict[str, list] = {}
    for order in orders:
        by_reference.setdefault(order["reference"], []).append(order)
    shipments = [s for s in spapi.admin("GET", "/_sandbox/shipments") if s["amazonOrderId"] in ids]
    confirmations: dict[str, list] = {}
    for shipment in shipments:
        confirmations.setdefault(shipment["amazonOrderId"], []).append(shipment)
    current = states(db, ids)
    sent_twice = sum(len(v) - 1 for v in by_reference.values())
    lost = sorted(
        i
        for i in (ids if expected is None else expected)
        if current.get(i) not in ("confirmed", "cancelled", "refused")
    )
    wrong_tracking = sorted(
        i
        for i, found in confirmations.items()
        if [(s["trackingNumber"], s["carrierCode"]) for s in found]
        != [(by_reference[i][0]["trackingNumber"], by_reference[i][0]["carrier"])]
    )
    unconfirmed = sorted(i for i in by_reference if by_reference[i][0]["trackingNumber"] and i not in confirmations)
    confirmed_twice = sorted(i for i, found in confirmations.items() if len(found) > 1)
    return {
        "sent_twice": sent_twice,
        "lost": lost,
        "confirmed_twice": confirmed_twice,
        "wrong_tracking": wrong_tracking,
        "unconfirmed": unconfirmed,
        "supplier_orders": len(orders),
        "confirmed": len(confirmations),
        "duplicate_creates": sum(o["duplicateCreates"] for o in orders),
    }


def assert_clean(result: dict[str, Any]) -> None:
    assert result["sent_twice"] == 0, result
    assert result["lost"] == [], result
    assert result["confirmed_twice"] == [], result
    assert result["wrong_tracking"] == [], result
    assert result["unconfirmed"] == [], result
