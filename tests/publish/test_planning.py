"""select -> gate -> price -> gate -> plan on PostgreSQL: only what changed is planned."""

from __future__ import annotations

import pytest

from mip.listings import stages
from mip.listings.feeds import build_documents
from mip.listings.planning import (
    MassDeletionRefused,
    apply_accepted,
    iter_plan_messages,
    plan_changes,
    plan_feed_batches,
)
from mip.runs import RunKey
from tests.publish.conftest import SELLER_ID, channel_with, insert_products, product

PUBLISH = """
selection:
  exclude_brands: [Excluded]
  min_stock: 1
pricing:
  default: {strategy: margin_on_cost, percent: 30}
  min_margin_percent: 10
  rounding: {ending: 0.99}
gates: {max_rejected_percent: 20, max_price_change_percent: 50, max_delete_percent: 25}
handling_days: 2
"""
CHANNEL = channel_with(PUBLISH)


def run_steps(db, run_id: str, *, allow_mass_delete: bool = False, channel=CHANNEL) -> dict:
    ctx = RunKey(channel, run_id, "mip_publish__it", "test")
    selected = stages.select_offers(db, ctx)
    offers = stages.gate_offers(db, ctx)
    priced = stages.price_offers(db, ctx)
    prices = stages.gate_prices(db, ctx)
    plan = plan_changes(db, ctx, allow_mass_delete=allow_mass_delete)
    db.commit()
    return {"selected": selected, "offers": offers, "priced": priced, "prices": prices, "plan": plan, "ctx": ctx}


def planned(db, run_id: str) -> dict[str, str]:
    rows = db.execute("SELECT sku, operation FROM mip.stage_plan WHERE channel_id = 'it' AND run_id = %s", (run_id,))
    return dict(rows.fetchall())


def published(db, count: int = 20) -> None:
    """A catalog of ``count`` products, planned and accepted by Amazon (mip.listings filled)."""
    insert_products(db, [product(f"P{i:03d}", cost_price=10 + i) for i in range(count)])
    first = run_steps(db, "first")
    assert first["plan"].update == count and first["plan"].patch == first["plan"].delete == 0
    apply_accepted(db, first["ctx"])
    db.commit()


def test_first_run_plans_a_full_update_per_product_and_the_payloads_are_valid(clean):
    db = clean
    insert_products(
        db, [product("A"), product("B", cost_price=55.5), product("X", brand="Excluded"), product("Z", stock=0)]
    )
    result = run_steps(db, "r1")
    assert result["selected"]["selected"] == 2 and planned(db, "r1") == {"MIP-A": "UPDATE", "MIP-B": "UPDATE"}
    row = db.execute(
        "SELECT price, quantity, product_type, offer_hash IS NOT NULL, payload_bytes > 100 "
        "FROM mip.stage_plan WHERE run_id = 'r1' AND sku = 'MIP-A'"
    ).fetchone()
    assert (float(row[0]), row[1], row[2], row[3], row[4]) == (19.99, 20, "KITCHEN", True, True)
    lineage = db.execute(
        "SELECT rule_id, strategy, parameter, vat_percent, referral_fee_percent, floor_applied, "
        "rounding, cost_price FROM mip.stage_price WHERE run_id = 'r1' AND sku = 'MIP-A'"
    ).fetchone()
    assert [str(v) if not isinstance(v, bool | str) else v for v in lineage] == [
        "default",
        "margin_on_cost",
        "30.0000",
        "22.000",
        "15.000",
        False,
        "up to ending 0.99",
        "10.00",
    ]
    build = build_documents(iter_plan_messages(db, "it", "r1"), seller_id=SELLER_ID, issue_locale="it_IT")
    assert not build.invalid and build.documents[0].skus == ("MIP-A", "MIP-B")
    batches = plan_feed_batches(db, "it", "r1", seller_id=SELLER_ID, issue_locale="it_IT")
    assert [(b.first_sku, b.last_sku, b.message_count) for b in batches] == [("MIP-A", "MIP-B", 2)]


def test_feed_batches_are_sku_ranges_that_rebuild_exactly_one_document_each(clean):
    from mip.listings.feeds import iter_documents

    db = clean
    insert_products(db, [product(f"P{i:03d}") for i in range(20)])
    run_steps(db, "r1")
    batches = plan_feed_batches(db, "it", "r1", seller_id=SELLER_ID, issue_locale="it_IT", max_messages=6)
    assert [b.message_count for b in batches] == [6, 6, 6, 2]
    for batch in batches:
        messages = iter_plan_messages(db, "it", "r1", first_sku=batch.first_sku, last_sku=batch.last_sku)
        (document,) = iter_documents(messages, seller_id=SELLER_ID, issue_locale="it_IT", max_messages=6)
        assert (document.skus[0], document.skus[-1], document.message_count, len(document.body)) == (
            batch.first_sku,
            batch.last_sku,
            batch.message_count,
            batch.size,
        )


def test_a_second_run_with_nothing_changed_plans_nothing(clean):
    published(clean)
    again = run_steps(clean, "second")
    assert again["plan"].messages == 0 and planned(clean, "second") == {}


def test_cost_and_stock_changes_plan_offer_only_patches(clean):
    db = clean
    published(db)
    db.execute("UPDATE mip.supplier_products SET cost_price = cost_price + 2 WHERE reference = 'P003'")
    db.execute("UPDATE mip.supplier_products SET stock = 3 WHERE reference = 'P007'")
    result = run_steps(db, "second")
    assert planned(db, "second") == {"MIP-P003": "PATCH", "MIP-P007": "PATCH"}
    patches = {m["sku"]: m for m in iter_plan_messages(db, "it", "second")}
    offer = {p["path"]: p["value"][0] for p in patches["MIP-P003"]["patches"]}
    assert offer["/attributes/purchasable_offer"]["our_price"][0]["schedule"][0]["value_with_tax"] == 29.99
    assert {p["path"]: p["value"][0] for p in patches["MIP-P007"]["patches"]}[
        "/attributes/fulfillment_availability"
    ] == {"fulfillment_channel_code": "DEFAULT", "quantity": 3, "lead_time_to_ship_max_days": 2}
    assert result["plan"].update == 0


def test_content_change_plans_a_full_update_and_a_new_product_too(clean):
    db = clean
    published(db)
    db.execute(
        "UPDATE mip.supplier_products SET names = jsonb_set(names, '{it}', '\"Coltello nuovo\"') "
        "WHERE reference = 'P001'"
    )
    insert_products(db, [product("NEW")])
    run_steps(db, "second")
    assert planned(db, "second") == {"MIP-P001": "UPDATE", "MIP-NEW": "UPDATE"}
    (message,) = [m for m in iter_plan_messages(db, "it", "second") if m["sku"] == "MIP-P001"]
    assert message["attributes"]["item_name"][0]["value"] == "Coltello nuovo"


def test_products_that_left_the_catalog_or_the_selection_are_deleted(clean):
    db = clean
    published(db)
    db.execute("UPDATE mip.supplier_products SET removed_at = now() WHERE reference = 'P002'")
    db.execute("UPDATE mip.supplier_products SET brand = 'Excluded' WHERE reference = 'P004'")
    db.execute("UPDATE mip.supplier_products SET stock = 0 WHERE reference = 'P005'")
    # a listing MIP does not manage (CSV era) is never deleted
    db.execute(
        "INSERT INTO mip.listings (channel_id, sku, marketplace_id, status) VALUES "
        "('it', 'CSV-OLD-1', 'APJ6JRA9NG5V4', 'ACTIVE')"
    )
    result = run_steps(db, "second")
    assert planned(db, "second") == {"MIP-P002": "DELETE", "MIP-P004": "DELETE", "MIP-P005": "DELETE"}
    messages = list(iter_plan_messages(db, "it", "second"))
    assert {"sku": "MIP-P002", "operationType": "DELETE"} in messages
    apply_accepted(db, result["ctx"])
    remaining = {r[0] for r in db.execute("SELECT sku FROM mip.listings WHERE channel_id = 'it'").fetchall()}
    assert "MIP-P002" not in remaining and "CSV-OLD-1" in remaining and len(remaining) == 18


def test_rejected_rows_are_neither_updated_nor_deleted(clean):
    db = clean
    published(db)
    db.execute("UPDATE mip.supplier_products SET ean = '8001234567891', cost_price = 30 WHERE reference = 'P006'")
    # a cost jump of +400% moves the price beyond the channel's 50% bound
    db.execute("UPDATE mip.supplier_products SET cost_price = cost_price * 5 WHERE reference = 'P008'")
    result = run_steps(db, "second")
    assert planned(db, "second") == {}
    assert result["offers"].failed_keys == ["MIP-P006"] and result["prices"].failed_keys == ["MIP-P008"]
    rules = dict(
        db.execute(
            "SELECT record_key, rule FROM mip.rejected_rows WHERE run_id = 'second' AND source LIKE 'publish:it:%'"
        ).fetchall()
    )
    assert rules == {
        "MIP-P006": "gtin_checksum(ean)",
        "MIP-P008": "expect_column_values_to_be_between(price_change_percent)",
    }
    flags = dict(
        db.execute(
            "SELECT sku, rejected FROM mip.stage_offer WHERE run_id = 'second' AND sku IN ('MIP-P006', 'MIP-P001')"
        ).fetchall()
    )
    assert flags == {"MIP-P006": True, "MIP-P001": False}


def test_a_mass_delete_is_refused_unless_the_run_allows_it(clean):
    db = clean
    published(db, count=40)
    db.execute("UPDATE mip.supplier_products SET removed_at = now() WHERE reference >= 'P015'")  # 25 of 40
    db.commit()
    with pytest.raises(MassDeletionRefused, match=r"deletes 25 of 40 MIP listings \(62%\).*allow_mass_delete"):
        run_steps(db, "second")
    db.rollback()
    allowed = run_steps(db, "second", allow_mass_delete=True)
    assert allowed["plan"].delete == 25


def test_one_percent_changed_plans_about_one_percent(clean):
    db = clean
    published(db, count=400)
    db.execute(
        "UPDATE mip.supplier_products SET cost_price = cost_price + 1 WHERE reference IN "
        "('P010', 'P020', 'P030', 'P040')"
    )
    assert run_steps(db, "second")["plan"].messages == 4


def test_stage_rows_of_old_runs_expire_and_a_rerun_replaces_its_rows(clean):
    db = clean
    published(db, count=5)
    db.execute("UPDATE mip.stage_offer SET created_at = now() - interval '30 days' WHERE run_id = 'first'")
    result = run_steps(db, "second")
    assert result["selected"]["expired_stage_rows"] == 5
    assert db.execute("SELECT count(*) FROM mip.stage_offer WHERE run_id = 'first'").fetchone()[0] == 0
    run_steps(db, "second")  # a re-run of the same run id gives the same rows, not twice as many
    assert db.execute("SELECT count(*) FROM mip.stage_offer WHERE run_id = 'second'").fetchone()[0] == 5


def test_a_channel_without_publish_settings_is_not_published():
    from mip.config import parse_topology

    topology = parse_topology(
        "accounts:\n  - {id: a, seller_id: A1MIPTESTSELLER, region: eu, connection_id: c}\n"
        "channels:\n  - {id: it, account: a, country: IT, role: main}\n"
        "  - {id: fr, account: a, country: FR, role: international, linked_main: it}\n",
        "t.yaml",
    )
    with pytest.raises(stages.NotPublished, match="has no publish settings"):
        stages.publish_settings(topology.channel("it"))
    with pytest.raises(stages.NotPublished, match="never publishes to it"):
        stages.publish_settings(topology.channel("fr"))


def test_a_channel_falls_back_to_the_catalog_language_and_tags_the_text_with_it(clean):
    """An Italian supplier (catalog.language it): amazon.de gets the Italian title, tagged it_IT, when there is
    no German one and no fallback is configured; a German title wins where there is one."""
    db = clean
    german = channel_with(PUBLISH, country="DE", channel_id="it")  # channel id "it": the helpers' stage key
    insert_products(
        db,
        [
            product("ONLY-IT", names={"it": "Coltello da cuoco"}, descriptions={"it": "Lama in acciaio."}),
            product("BOTH", names={"it": "Padella", "de": "Pfanne"}, descriptions={}),
        ],
    )
    ctx = RunKey(german, "fallback", "mip_publish__de", "test")
    assert stages.select_offers(db, ctx, catalog_language="it")["selected"] == 2
    offers = dict(db.execute("SELECT sku, language FROM mip.stage_offer WHERE run_id = 'fallback'").fetchall())
    assert offers == {"MIP-ONLY-IT": "it", "MIP-BOTH": "de"}
    stages.gate_offers(db, ctx)
    stages.price_offers(db, ctx)
    stages.gate_prices(db, ctx)
    plan_changes(db, ctx)
    messages = dict(db.execute("SELECT sku, payload FROM mip.stage_plan WHERE run_id = 'fallback'").fetchall())
    assert messages["MIP-ONLY-IT"]["attributes"]["item_name"][0] == {
        "value": "Coltello da cuoco",
        "language_tag": "it_IT",
        "marketplace_id": "A1PA6795UKMFR9",
    }
    assert messages["MIP-BOTH"]["attributes"]["item_name"][0]["language_tag"] == "de_DE"
