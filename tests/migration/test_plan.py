"""Planning against the sandbox's seeded CSV-era listings (the merchant listings report over HTTP, the demo
catalog in mip): the plan finds exactly the seeded duplicates, never MIP's own or FBA listings."""

from __future__ import annotations

from collections import Counter

import pytest

from mip.config import load_topology
from tests.migration.conftest import (
    DEMO,
    expected_planned,
    plan_from_report,
    precision_recall,
    sandbox_listings,
    seeded_truth,
    stage_report,
)

# the reason each seeded kind must be planned with
REASON_OF_KIND = {
    "other_ean": "other_ean",
    "same_gtin": "same_gtin",
    "upc_ean": "same_gtin",
    "sku_reference": "sku_reference",
    "brand_title": "brand_title",
    "same_asin": "same_asin",
}


def plan_rows(db, plan_id: str) -> dict[str, tuple]:
    rows = db.execute(
        "SELECT sku, reference, reason, status, excluded_because, evidence FROM mip.migration_plans WHERE plan_id = %s",
        (plan_id,),
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.parametrize("channel_id", ["it", "de"])
def test_the_plan_finds_exactly_the_seeded_duplicates(channel_id, migration_sandbox, make_gateway, clean_migration):
    db = clean_migration
    country = channel_id.upper()
    outcome = plan_from_report(db, make_gateway(migration_sandbox), channel_id, f"exact-{channel_id}")
    rows = plan_rows(db, outcome.plan_id)
    planned = {sku for sku, row in rows.items() if row[2] in ("planned", "waiting")}
    expected = expected_planned(country)
    precision, recall = precision_recall(planned, expected)
    truth = {t.sku: t for t in seeded_truth() if t.country == country}
    print(
        f"\n{channel_id}: {len(planned)} planned of {len(truth)} CSV-era listings; expected {len(expected)}; "
        f"precision {precision:.3f}, recall {recall:.3f}; by reason {outcome.summary['by_reason']}; "
        f"excluded {outcome.summary['excluded']}"
    )
    print(outcome.text)
    assert (precision, recall) == (1.0, 1.0), (sorted(planned - expected), sorted(expected - planned))

    for sku in planned:
        reference, reason, _, _, evidence = rows[sku]
        assert reference == truth[sku].reference, sku
        assert reason == REASON_OF_KIND[truth[sku].kind], (sku, reason, truth[sku])
        assert evidence["listing"]["sku"] == sku and evidence["catalog"]["reference"] == reference
    # the case the pipeline exists for: the same product under two EANs, with both EANs in the evidence
    two_eans = [rows[t.sku][4] for t in truth.values() if t.kind == "other_ean"]
    assert two_eans and all(
        e["gtin"]["listing"] != e["gtin"]["catalog"] and not e["gtin"]["same_product_number"] for e in two_eans
    )
    upc = [rows[t.sku][4]["gtin"] for t in truth.values() if t.kind == "upc_ean"]
    assert upc and all(
        (g["listing_form"], g["catalog_form"], g["same_product_number"]) == ("UPC-12", "EAN-13", True) for g in upc
    )
    # FBA duplicates are matched but never planned; duplicates of products the channel does not publish neither
    for t in truth.values():
        if t.kind == "fba_duplicate":
            assert rows[t.sku][2:4] == ("excluded", "fba"), t
        elif t.kind == "not_selected":
            assert rows[t.sku][2:4] == ("excluded", "not_published"), t
        elif t.kind in ("near_miss", "unrelated"):
            assert t.sku not in rows, (t, rows.get(t.sku))
    header = db.execute(
        "SELECT status, planned, listings_total, summary_text, summary FROM "
        "mip.migration_plan_headers WHERE plan_id = %s",
        (outcome.plan_id,),
    ).fetchone()
    assert header[:3] == ("ready", len(expected), len(truth))
    assert f"Planned for deletion: {len(expected)} listings" in header[3] and "other_ean" in header[3]
    assert header[4]["by_reason"] == dict(sorted(Counter(REASON_OF_KIND[truth[s].kind] for s in expected).items()))
    # MIP has published none of these products here yet: every duplicate waits, so buyers keep an offer
    assert {rows[s][2] for s in planned} == {"waiting"}
    assert header[4]["waiting"] == {"mip_not_listed": len(expected)}
    assert f"Waiting: {len(expected)} of them are deleted only once MIP's own listing" in header[3]
    assert all(
        rows[s][4]["mip_copy"]
        == {
            "sku": f"MIP-{rows[s][0]}",
            "live": False,
            "waiting_because": "mip_not_listed",
            "seen_in": rows[s][4]["mip_copy"]["seen_in"],
        }
        for s in planned
    )


def test_mip_managed_listings_are_never_planned_and_their_asins_find_offers(
    migration_sandbox, make_gateway, clean_migration
):
    db = clean_migration
    sandbox = migration_sandbox
    # MIP published three catalog products in IT (one of them also has a CSV-era duplicate under its EAN)
    truth = [t for t in seeded_truth() if t.country == "IT"]
    same_gtin = next(t for t in truth if t.kind == "same_gtin")
    products = {
        p[0]: p
        for p in db.execute(
            "SELECT reference, ean, brand, names ->> 'it' FROM mip.supplier_products WHERE reference = ANY(%s) OR "
            "reference IN (SELECT reference FROM mip.supplier_products WHERE category_path LIKE 'Home%%' AND stock > 5 "
            "AND cost_price BETWEEN 5 AND 300 AND names ? 'it' ORDER BY reference DESC LIMIT 2)",
            ([same_gtin.reference],),
        ).fetchall()
    }
    listings = [
        {
            "sku": f"MIP-{ref}",
            "item_name": name,
            "brand": brand,
            "gtin": ean,
            "gtin_type": "ean",
            "price": "49.90",
            "quantity": 5,
            "source": "mip",
        }
        for ref, ean, brand, name in products.values()
    ]
    sandbox.admin("POST", "listings/seed", json={"seller_id": DEMO, "country": "IT", "listings": listings})
    live = sandbox_listings(sandbox, "IT")
    # mip.listings knows one of them (with its ASIN); the others only appear in the report
    first = listings[0]["sku"]
    db.execute(
        "INSERT INTO mip.listings (channel_id, sku, marketplace_id, reference, status, asin) VALUES "
        "('it', %s, 'APJ6JRA9NG5V4', %s, 'ACCEPTED', %s)",
        (first, first[4:], live[first]["asin"]),
    )
    db.commit()
    # a CSV-era offer on the ASIN of a MIP listing, without a GTIN of its own
    other = next(s for s in (listings[1]["sku"], listings[2]["sku"]) if s[4:] != same_gtin.reference)
    offer = {
        "sku": "CSV-IT-ON-MIP-ASIN",
        "item_name": "Offerta",
        "brand": products[other[4:]][2],
        "asin": live[other]["asin"],
        "price": "39.90",
        "quantity": 2,
    }
    sandbox.admin("POST", "listings/seed", json={"seller_id": DEMO, "country": "IT", "listings": [offer]})

    outcome = plan_from_report(db, make_gateway(sandbox), "it", "mip-managed")
    rows = plan_rows(db, outcome.plan_id)
    assert not any(sku.startswith("MIP-") for sku in rows), "MIP's own listings are never matched"
    assert outcome.summary["mip_managed"] == 3
    assert rows["CSV-IT-ON-MIP-ASIN"][:3] == (other[4:], "same_asin", "planned")
    assert rows[same_gtin.sku][:3] == (same_gtin.reference, "same_gtin", "planned")
    assert rows[same_gtin.sku][4]["catalog"]["mip_sku"] == f"MIP-{same_gtin.reference}"
    planned = {s for s, r in rows.items() if r[2] in ("planned", "waiting")}
    assert planned == expected_planned("IT") | {"CSV-IT-ON-MIP-ASIN"}
    # only the duplicates of the products whose MIP listing is live are deleted now; the others wait
    assert {s for s, r in rows.items() if r[2] == "planned"} == {"CSV-IT-ON-MIP-ASIN", same_gtin.sku}
    fba = {t.sku for t in truth if t.fulfillment == "AFN"}
    assert fba and not fba & planned


def test_planning_without_a_catalog_says_so(migration_sandbox, make_gateway, clean_migration):
    from mip.migration.plan import EmptyCatalog, PlanContext, build_plan

    db = clean_migration
    stage_report(db, make_gateway(migration_sandbox), "it", "no-catalog")
    topology = load_topology()
    channel = topology.channel("it")
    db.execute("DELETE FROM mip.supplier_products")  # rolled back below
    try:
        with pytest.raises(EmptyCatalog, match="load the supplier catalog first"):
            build_plan(
                db,
                PlanContext(channel, topology.account_of(channel), "no-catalog", None, "tester"),
                max_delete_fraction=0.2,
            )
    finally:
        db.rollback()
    assert db.execute("SELECT count(*) FROM mip.supplier_products").fetchone()[0] > 4000
