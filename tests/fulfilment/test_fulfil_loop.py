"""End to end against both stand-ins (real HTTP, PostgreSQL, python-amazon-sp-api and pybigbuy):
imported orders reach the supplier once and come back as confirmed shipments with its tracking."""

from __future__ import annotations

import pytest

from mip.fulfilment.confirm import confirm
from mip.fulfilment.gate import gate
from mip.fulfilment.risk import late_shipment_risk, refusals
from mip.fulfilment.send import send
from mip.fulfilment.track import track
from mip.runs import StepFailed
from tests.fulfilment.conftest import assert_clean, both_truths, import_orders, key, shippable, states


def run_loop(db, gateway, client, supplier, run_id: str = "run-1") -> None:
    k = key(run_id=run_id)
    gate(k, db)
    db.commit()
    send(k, db, gateway, supplier=client)
    supplier.admin("POST", "ship")
    assert track(k, db, supplier=client)
    confirm(k, db, gateway)
    db.commit()


def test_orders_go_to_the_supplier_once_and_are_confirmed_with_its_tracking(
    fresh, spapi, supplier, client, make_gateway
):
    db = fresh
    gateway = make_gateway(spapi)
    ids = import_orders(db, spapi, gateway, 12)
    wanted = shippable(spapi, ids)
    assert wanted, "the sandbox generated no shippable order"
    run_loop(db, gateway, client, supplier)
    assert {i: s for i, s in states(db, ids).items()} == dict.fromkeys(wanted, "confirmed")
    result = both_truths(db, spapi, supplier, set(ids), wanted)
    assert_clean(result)
    assert result["supplier_orders"] == result["confirmed"] == len(wanted)
    # a second run sends and confirms nothing more
    run_loop(db, gateway, client, supplier, run_id="run-2")
    again = both_truths(db, spapi, supplier, set(ids), wanted)
    assert again == result
    assert client.calls["create_order"] == len(wanted)
    # the address never reaches the mip database
    dump = db.execute("SELECT string_agg(t::text, ' ') FROM mip.fulfilment_orders t").fetchone()[0]
    assert "AddressLine" not in dump and "Street" not in dump and "Via Roma" not in dump


def test_unmapped_sku_is_refused_at_the_gate_and_gated_again_once_mapped(fresh, spapi, supplier, make_gateway):
    db = fresh
    gateway = make_gateway(spapi)
    db.execute("DELETE FROM mip.listings WHERE channel_id = 'it' AND sku = 'MIP-FUL-A'")
    db.commit()
    ids = import_orders(db, spapi, gateway, 6)
    k = key()
    summary = gate(k, db)
    db.commit()
    refused = db.execute(
        "SELECT amazon_order_id, fix FROM mip.fulfilment_orders WHERE state = 'refused' AND reason = 'unmapped_sku'"
    ).fetchall()
    assert summary["refused"] == len(refused) > 0
    assert all("map the SKU" in fix for _, fix in refused)
    with pytest.raises(StepFailed, match="unmapped_sku"):
        refusals(k, db)
    db.execute(
        "INSERT INTO mip.listings (channel_id, sku, marketplace_id, reference, status)"
        " VALUES ('it', 'MIP-FUL-A', 'x', 'REF-MIP-FUL-A', 'ACCEPTED')"
    )
    db.commit()
    gate(key(run_id="run-2"), db)
    assert set(states(db, ids).values()) == {"gated"}


def test_late_shipment_risk_names_the_orders_without_tracking(fresh, spapi, supplier, client, make_gateway):
    db = fresh
    gateway = make_gateway(spapi)
    ids = import_orders(db, spapi, gateway, 4)
    wanted = shippable(spapi, ids)
    k = key()
    gate(k, db)
    db.commit()
    # at time scale 1200 the LatestShipDate (2 Amazon days) is minutes after the purchase: all are at risk
    with pytest.raises(StepFailed) as risky:
        late_shipment_risk(k, db, margin=1)
    assert all(order in str(risky.value) for order in wanted)
    send(k, db, gateway, supplier=client)
    supplier.admin("POST", "ship")
    track(k, db, supplier=client)
    assert late_shipment_risk(k, db, margin=1) == 0, "orders with tracking are not at risk"


def test_an_international_listing_channel_maps_skus_through_its_main_channel(
    fresh, spapi, supplier, client, make_gateway
):
    """FR orders carry the IT offers' SKUs (Build International Listings): their supplier references come
    from the main channel's listings, and their shipments are confirmed in the FR marketplace."""
    db = fresh
    gateway = make_gateway(spapi)
    ids = import_orders(db, spapi, gateway, 5, country="FR", channel_id="fr")
    wanted = shippable(spapi, ids, country="FR")
    k = key("fr")
    assert gate(k, db)["gated"] == len(wanted)
    db.commit()
    send(k, db, gateway, supplier=client)
    supplier.admin("POST", "ship")
    track(k, db, supplier=client)
    confirm(k, db, gateway)
    db.commit()
    assert set(states(db, wanted).values()) == {"confirmed"}
    shipments = [s for s in spapi.admin("GET", "/_sandbox/shipments") if s["amazonOrderId"] in wanted]
    assert {s["marketplaceId"] for s in shipments} == {"A13V1IB3VIYZZH"}
    assert_clean(both_truths(db, spapi, supplier, set(ids), wanted))
