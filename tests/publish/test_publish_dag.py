"""mip_publish__it / mip_offers__it end to end through dag.test() against a sandbox of this module's
own: the sandbox holds the listings at the computed prices, a re-run sends nothing, a cost change
sends only patches, a removed product is deleted, partial acceptance leaves per-SKU issues, a FATAL
feed fails the run with a clear message and the next run recovers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import yaml

from tests.publish.conftest import insert_products, product

DAG_ID = "mip_publish__it"
IT = "APJ6JRA9NG5V4"
STEPS = ["check_channel", "select", "gate_offers", "price", "gate_prices", "plan"]
FIRST_DAY = datetime(2026, 10, 1, tzinfo=UTC)


def states(dag_run) -> dict[str, str]:
    found: dict[str, str] = {}
    for ti in dag_run.get_task_instances():
        found[ti.task_id] = str(ti.state) if ti.map_index < 0 else found.get(ti.task_id, str(ti.state))
    return found


def generated(count: int, seed: int) -> list[dict]:
    """Products of the sandbox's catalog generator, as the catalog ingest stores them."""
    from sandbox.catalog import generate

    return [
        product(
            p.reference,
            ean=p.ean.zfill(13),
            brand=p.brand,
            category_path=p.category,
            names={k: v for k, v in p.names.items() if v},
            descriptions={k: v for k, v in p.descriptions.items() if v},
            images=p.images,
            cost_price=float(p.cost_price),
            retail_price=float(p.retail_price),
            vat_class=p.vat_class,
            stock=int(p.stock),
        )
        for p in generate(count, seed=seed, bad_rows=False).products
    ]


class Days:
    """A new logical date for every dag.test() of this module."""

    day = 0

    def next(self) -> datetime:
        Days.day += 1
        return FIRST_DAY + timedelta(days=Days.day)


def stage_key(dag_run) -> str:
    return f"{dag_run.dag_id}/{dag_run.run_id}"


def plan_of(db, dag_run) -> dict[str, int]:
    return dict(
        db.execute(
            "SELECT operation, count(*) FROM mip.stage_plan WHERE channel_id = 'it' AND run_id = %s GROUP BY 1",
            (stage_key(dag_run),),
        ).fetchall()
    )


def sandbox_listings(shop) -> dict[str, dict]:
    truth = shop.admin("GET", "listings", params={"seller_id": "A1MIPDEMOSELLER", "marketplace_id": IT})
    return {row["sku"]: row for row in truth if row["sku"].startswith("MIP-")}


def sandbox_price(listing: dict) -> Decimal:
    return Decimal(str(listing["price"])).quantize(Decimal("0.01"))


def feeds(shop) -> int:
    return len(shop.admin("GET", "feeds", params={"seller_id": "A1MIPDEMOSELLER", "documents": "0"}))


@pytest.fixture(scope="module")
def published(shop):
    """The first publication (module state: the tests below build on it, in order)."""
    return {}


def test_the_catalog_is_published_and_the_sandbox_holds_the_computed_prices(clean, connected, run_dag, published):
    db, shop = clean, connected
    insert_products(db, [*generated(120, seed=5), product("BADEAN", ean="8001234567891")])
    db.commit()
    dag_run = run_dag(DAG_ID, logical_date=Days().next())
    assert str(dag_run.state) == "success", states(dag_run)
    priced = dict(
        db.execute(
            "SELECT sku, price FROM mip.stage_price WHERE channel_id = 'it' AND run_id = %s AND NOT rejected",
            (stage_key(dag_run),),
        ).fetchall()
    )
    assert plan_of(db, dag_run) == {"UPDATE": len(priced)} and len(priced) > 60
    listings = sandbox_listings(shop)
    assert set(listings) == set(priced)
    assert all(sandbox_price(listings[sku]) == price for sku, price in priced.items())
    stored = dict(db.execute("SELECT status, count(*) FROM mip.listings WHERE channel_id = 'it' GROUP BY 1").fetchall())
    assert stored == {"ACCEPTED": len(priced)}
    assert db.execute(
        "SELECT record_key FROM mip.rejected_rows WHERE run_id = %s AND rule = 'gtin_checksum(ean)'",
        (stage_key(dag_run),),
    ).fetchone() == ("MIP-BADEAN",)
    labels = {(ti.task_id, ti.rendered_map_index) for ti in dag_run.get_task_instances() if ti.map_index >= 0}
    submission = db.execute(
        "SELECT id, message_count FROM mip.feed_submissions WHERE run_id = %s", (stage_key(dag_run),)
    ).fetchone()
    assert labels == {
        ("submit", f"document 0: {len(priced)} messages"),
        ("wait", f"submission {submission[0]}: {submission[1]} messages"),
        ("apply", f"submission {submission[0]}: {submission[1]} messages"),
    }, "the grid names each mapped feed task by its document"
    published.update(priced=priced, feeds=feeds(shop))


def test_a_rerun_sends_nothing(connected, run_dag, published, db):
    dag_run = run_dag(DAG_ID, logical_date=Days().next())
    assert str(dag_run.state) == "success", states(dag_run)
    assert plan_of(db, dag_run) == {}
    assert feeds(connected) == published["feeds"], "nothing changed: no feed"


def test_a_cost_change_sends_only_patches_and_a_removed_product_is_deleted(connected, run_dag, published, db):
    skus = sorted(published["priced"])
    changed, removed = skus[:4], skus[4:6]
    db.execute(
        "UPDATE mip.supplier_products SET cost_price = cost_price + 3 WHERE 'MIP-' || reference = ANY(%s)", (changed,)
    )
    db.execute("UPDATE mip.supplier_products SET removed_at = now() WHERE 'MIP-' || reference = ANY(%s)", (removed,))
    db.commit()
    dag_run = run_dag(DAG_ID, logical_date=Days().next())
    assert str(dag_run.state) == "success", states(dag_run)
    assert plan_of(db, dag_run) == {"PATCH": 4, "DELETE": 2}
    listings = sandbox_listings(connected)
    assert not set(removed) & set(listings)
    new_prices = dict(db.execute("SELECT sku, price FROM mip.listings WHERE sku = ANY(%s)", (changed,)).fetchall())
    assert all(sandbox_price(listings[sku]) == new_prices[sku] > published["priced"][sku] for sku in changed)


def test_the_offers_dag_sends_price_changes_and_leaves_content_to_publishing(connected, run_dag, published, db):
    skus = sorted(published["priced"])[10:13]
    db.execute("UPDATE mip.supplier_products SET stock = stock + 7 WHERE 'MIP-' || reference = ANY(%s)", (skus[:2],))
    db.execute(
        """UPDATE mip.supplier_products SET names = names || '{"it": "Nome nuovo"}' """
        "WHERE 'MIP-' || reference = %s",
        (skus[2],),
    )
    db.commit()
    dag_run = run_dag("mip_offers__it", logical_date=Days().next())
    assert str(dag_run.state) == "success", states(dag_run)
    assert plan_of(db, dag_run) == {"PATCH": 2}, "the new title (content) waits for mip_publish"
    listings = sandbox_listings(connected)
    stock = dict(
        db.execute(
            "SELECT 'MIP-' || reference, stock FROM mip.supplier_products WHERE 'MIP-' || reference = ANY(%s)",
            (skus[:2],),
        ).fetchall()
    )
    assert all(listings[s]["quantity"] == stock[s] for s in skus[:2])


def test_partial_acceptance_leaves_per_sku_issues_and_fails_the_gate_naming_the_codes(
    connected, run_dag, db, published
):
    connected.set_faults(partial_acceptance=0.5)
    skus = sorted(published["priced"])[20:40]
    db.execute(
        "UPDATE mip.supplier_products SET cost_price = cost_price + 1 WHERE 'MIP-' || reference = ANY(%s)", (skus,)
    )
    db.commit()
    dag_run = run_dag(DAG_ID, logical_date=Days().next())
    assert states(dag_run)["acceptance_gate"] == "failed" and states(dag_run)["apply"] == "success"
    invalid = db.execute("SELECT sku, issues FROM mip.listings WHERE status = 'INVALID'").fetchall()
    assert 0 < len([sku for sku, _ in invalid if sku in skus]) < len(skus)
    assert all(issues and issues[0]["code"] and issues[0]["severity"] == "ERROR" for _, issues in invalid)
    codes = db.execute(
        "SELECT issue_codes FROM mip.feed_submissions WHERE dag_id = %s AND run_id = %s", (DAG_ID, stage_key(dag_run))
    ).fetchone()[0]
    assert sum(codes.values()) == len(invalid)

    connected.reset_faults()
    retry = run_dag(DAG_ID, logical_date=Days().next())
    assert str(retry.state) == "success", states(retry)
    assert sum(plan_of(db, retry).values()) == len(invalid), "the rejected SKUs are sent again, and only they"


def test_a_fatal_feed_fails_the_run_with_a_clear_message_and_the_next_run_recovers(
    connected, run_dag, db, published, capfd
):
    connected.set_faults(fatal_feeds=1)
    skus = sorted(published["priced"])[50:55]
    db.execute(
        "UPDATE mip.supplier_products SET cost_price = cost_price + 2 WHERE 'MIP-' || reference = ANY(%s)", (skus,)
    )
    db.commit()
    dag_run = run_dag(DAG_ID, logical_date=Days().next())
    assert states(dag_run)["acceptance_gate"] == "failed"
    output = capfd.readouterr().out
    assert "ended FATAL" in output and "the next run sends them again" in output
    assert (
        db.execute(
            "SELECT count(*) FROM mip.listings WHERE sku = ANY(%s) AND status = 'FEED_FATAL'", (skus,)
        ).fetchone()[0]
        == 5
    )

    recovered = run_dag(DAG_ID, logical_date=Days().next())
    assert str(recovered.state) == "success", states(recovered)
    assert plan_of(db, recovered) == {"PATCH": 5}
    assert (
        db.execute("SELECT count(*) FROM mip.listings WHERE sku = ANY(%s) AND status = 'ACCEPTED'", (skus,)).fetchone()[
            0
        ]
        == 5
    )


def test_a_gate_past_its_threshold_fails_the_run_with_the_rejected_rows_kept(clean, connected, run_dag):
    db = clean
    insert_products(db, [product(f"OK{i}") for i in range(20)] + [product(f"NOBRAND{i}", brand=None) for i in range(5)])
    db.commit()
    dag_run = run_dag(DAG_ID, logical_date=Days().next())
    assert str(dag_run.state) == "failed"
    assert {k: v for k, v in states(dag_run).items() if k in ("gate_offers", "price", "plan")} == {
        "gate_offers": "failed",
        "price": "upstream_failed",
        "plan": "upstream_failed",
    }
    assert (
        db.execute(
            "SELECT count(*) FROM mip.rejected_rows WHERE source = 'publish:it:stage_offer' "
            "AND run_id = %s AND rule = 'expect_column_values_to_not_be_null(brand)'",
            (stage_key(dag_run),),
        ).fetchone()[0]
        == 5
    )
    failing = db.execute(
        "SELECT success, failing_expectations FROM mip.quality_results WHERE dag_id = %s "
        "AND run_id = %s AND task_id = 'gate_offers'",
        (DAG_ID, stage_key(dag_run)),
    ).fetchone()
    assert failing[0] is False and failing[1][0]["rule"] == "expect_column_values_to_not_be_null(brand)"


def test_a_channel_without_publish_settings_skips_every_step(clean, run_dag, topology_file, tmp_path, monkeypatch):
    raw = yaml.safe_load(topology_file.read_text())
    for channel in raw["channels"]:
        channel.pop("publish", None)
    unpublished = tmp_path / "channels.yaml"
    unpublished.write_text(json.dumps(raw))
    monkeypatch.setenv("MIP_CHANNELS_FILE", str(unpublished))
    dag_run = run_dag(DAG_ID, logical_date=Days().next())
    assert str(dag_run.state) == "success"
    assert {k: v for k, v in states(dag_run).items() if k in STEPS} == {
        "check_channel": "success",
        **dict.fromkeys(STEPS[1:], "skipped"),
    }


def test_a_mass_delete_is_refused_with_its_plan_kept_and_the_run_param_allows_it(clean, connected, run_dag):
    db = clean
    insert_products(db, [product(f"MASS{i:02d}") for i in range(20)])
    db.commit()
    first = run_dag(DAG_ID, logical_date=Days().next())
    assert str(first.state) == "success", states(first)
    db.execute("UPDATE mip.supplier_products SET removed_at = now() WHERE reference >= 'MASS05'")
    db.commit()
    refused = run_dag(DAG_ID, logical_date=Days().next())
    assert states(refused)["plan"] == "failed" and states(refused)["batches"] == "upstream_failed"
    assert plan_of(db, refused) == {"DELETE": 15}, "the refused plan stays in mip.stage_plan for inspection"
    allowed = run_dag(DAG_ID, logical_date=Days().next(), conf={"allow_mass_delete": True})
    assert str(allowed.state) == "success", states(allowed)
    assert plan_of(db, allowed) == {"DELETE": 15}
    assert db.execute("SELECT count(*) FROM mip.listings WHERE channel_id = 'it'").fetchone()[0] == 5


def test_an_incomplete_connection_fails_the_first_amazon_task_at_once_with_the_fix(
    clean, shop, run_dag, monkeypatch, capfd
):
    """A connection without its refresh token: ``submit`` fails on its first try (no retry burned on what only a
    person can fix), says which field to fill and where, and nothing is recorded as sent."""
    from tests.conftest import use_sandbox_connection

    db = clean
    use_sandbox_connection(monkeypatch, shop, refresh_token="")
    insert_products(db, [product(f"CONN{i}") for i in range(3)])
    db.commit()
    dag_run = run_dag(DAG_ID, logical_date=Days().next())
    submits = [(str(ti.state), ti.try_number) for ti in dag_run.get_task_instances() if ti.task_id == "submit"]
    assert submits == [("failed", 1)], states(dag_run)
    assert states(dag_run)["plan"] == "success"
    sent = db.execute("SELECT count(*) FROM mip.feed_submissions WHERE run_id = %s", (stage_key(dag_run),))
    assert sent.fetchone()[0] == 0
    output = capfd.readouterr()
    assert "lacks refresh_token" in output.out + output.err and "Admin > Connections" in output.out + output.err
