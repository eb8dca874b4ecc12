"""The order gate on orders Amazon could send wrong: rejected with the reason, kept aside, never loaded.

The sandbox only produces well-formed orders, so these orders are Amazon-shaped payloads given to
the same normalisation, stage, gate and load code a run uses.
"""

from __future__ import annotations

from mip.config import load_topology
from mip.orders import gate, load, stage
from mip.orders.normalise import api_items, api_order
from mip.runs import RunKey
from tests.orders.test_normalise import api_pair

RUN = "gate-run"
DEMO = "A1MIPDEMOSELLER"


def stage_api(db, run_id: str, pairs) -> None:
    orders, items = [], []
    for order_payload, item_payloads in pairs:
        order = api_order(order_payload, "it", "APJ6JRA9NG5V4")
        orders.append(order)
        items.extend(api_items(order, item_payloads))
    run = RunKey(load_topology().channel("it"), run_id, seller_id=DEMO)
    stage.stage_orders(db, run, "api", orders)
    stage.stage_items(db, run, items)
    stage.mark_unchanged(db, "it", run_id)


def bad_orders():
    good = api_pair("402-1000001-0000001", "Shipped", "23.99", [("SKU-A", 1, "20.00", "3.99")])
    negative = api_pair("402-1000002-0000002", "Shipped", "10.00", [("SKU-A", 1, "-10.00", "0.00")])
    dollars = api_pair("402-1000003-0000003", "Unshipped", "20.00", [("SKU-B", 1, "20.00", "0.00")])
    dollars[0]["OrderTotal"]["CurrencyCode"] = "USD"
    no_lines = api_pair("402-1000004-0000004", "Shipped", "20.00", [])
    unpaid = api_pair("402-1000005-0000005", "Shipped", None, [("SKU-C", 1, None, None)])
    odd_status = api_pair("402-1000006-0000006", "Teleported", "5.00", [("SKU-D", 1, "5.00", "0.00")])
    return [good, negative, dollars, no_lines, unpaid, odd_status]


def test_bad_orders_are_rejected_with_their_reason_and_not_loaded(clean_orders):
    db = clean_orders
    stage_api(db, RUN, bad_orders())
    result = gate.run_order_gate(
        db, "it", load_topology().channel("it").marketplace.currency, RUN, "mip_orders__it", "gate"
    )
    assert result.passed, "rejections never fail the run"
    assert (result.evaluated_rows, result.unexpected_rows) == (6, 5)
    reasons = {r["amazon_order_id"]: r["reasons"] for r in gate.rejected_reasons(db, "it", RUN)}
    assert sorted(reasons) == [f"402-100000{n}-000000{n}" for n in range(2, 7)]
    assert "items_min_amount" in reasons["402-1000002-0000002"] and "negative price" in reasons["402-1000002-0000002"]
    assert "currency" in reasons["402-1000003-0000003"] and "USD" in reasons["402-1000003-0000003"]
    assert "no lines" in reasons["402-1000004-0000004"]
    assert "has no OrderTotal" in reasons["402-1000005-0000005"]
    assert "Teleported" in reasons["402-1000006-0000006"]
    rows = db.execute("SELECT DISTINCT source, run_id FROM mip.rejected_rows WHERE record_key LIKE '402-1%'").fetchall()
    assert rows == [("orders:it", RUN)]

    loaded = load.load_run(db, "it", RUN)
    assert loaded.orders.inserted == 1
    assert db.execute("SELECT amazon_order_id FROM mip.orders").fetchall() == [("402-1000001-0000001",)]


def test_a_rejected_order_is_evaluated_again_when_amazon_changes_it(clean_orders):
    db = clean_orders
    stage_api(db, RUN, [bad_orders()[1]])
    gate.run_order_gate(db, "it", "EUR", RUN, None, None)
    load.load_run(db, "it", RUN)
    assert db.execute("SELECT count(*) FROM mip.orders").fetchone()[0] == 0

    fixed_order, fixed_items = api_pair("402-1000002-0000002", "Shipped", "10.00", [("SKU-A", 1, "10.00", "0.00")])
    fixed_order["LastUpdateDate"] = "2026-11-20T13:00:00Z"
    stage_api(db, "next-run", [(fixed_order, fixed_items)])
    assert gate.run_order_gate(db, "it", "EUR", "next-run", None, None).unexpected_rows == 0
    load.load_run(db, "it", "next-run")
    assert db.execute("SELECT order_status, order_total FROM mip.orders").fetchall() == [("Shipped", 10)]
    # the first run's verdict stays on record under its run
    assert (
        db.execute("SELECT count(DISTINCT run_id) FROM mip.rejected_rows WHERE source = 'orders:it'").fetchone()[0] == 1
    )


def test_an_order_on_two_pages_of_one_run_is_staged_once_newest_first(clean_orders):
    """getOrders pages by LastUpdateDate: an order Amazon changes while a run pages comes back on a
    later page. Both copies reach stage_orders (one call per page); the newer one stays, whichever
    page brought it."""
    db = clean_orders
    pending = api_pair("402-2000001-0000001", "Pending", "23.99", [("SKU-A", 1, "20.00", "3.99")])[0]
    unshipped = {**pending, "OrderStatus": "Unshipped", "LastUpdateDate": "2026-11-20T12:05:00Z"}
    other = api_pair("402-2000002-0000002", "Pending", "9.99", [("SKU-B", 1, "9.99", "0.00")])[0]

    def stage_page(run_id: str, *payloads) -> int:
        run = RunKey(load_topology().channel("it"), run_id, seller_id=DEMO)
        return stage.stage_orders(db, run, "api", [api_order(p, "it", "APJ6JRA9NG5V4") for p in payloads])

    assert stage_page("pages", pending, other) == 2
    assert stage_page("pages", unshipped) == 0, "not new to the run"
    assert stage_page("reversed", unshipped) == 1
    assert stage_page("reversed", pending, other) == 1
    rows = db.execute(
        "SELECT run_id, amazon_order_id, order_status, last_update_date FROM mip.stage_orders"
        " WHERE amazon_order_id LIKE '402-2%' ORDER BY run_id, amazon_order_id"
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("pages", "402-2000001-0000001", "Unshipped"),
        ("pages", "402-2000002-0000002", "Pending"),
        ("reversed", "402-2000001-0000001", "Unshipped"),
        ("reversed", "402-2000002-0000002", "Pending"),
    ]


def test_lines_fetched_for_an_older_copy_of_an_order_are_fetched_again(clean_orders):
    """Paging fetches order items between pages: when a later page brings a newer copy of an order
    whose lines were already staged, those lines are dropped and the order waits for getOrderItems."""
    db = clean_orders
    raw, lines = api_pair("402-2000003-0000003", "Pending", "23.99", [("SKU-A", 1, "20.00", "3.99")])
    older = api_order(raw, "it", "APJ6JRA9NG5V4")
    run = RunKey(load_topology().channel("it"), "interleaved", seller_id=DEMO)
    stage.stage_orders(db, run, "api", [older])
    stage.stage_items(db, run, api_items(older, lines))
    db.execute("UPDATE mip.stage_orders SET items_fetched = true WHERE run_id = 'interleaved'")
    assert stage.forget_stale_items(db, "it", "interleaved") == 0, "the lines are of the staged copy"

    newer = {**raw, "OrderStatus": "Unshipped", "LastUpdateDate": "2026-11-20T12:05:00Z"}
    stage.stage_orders(db, run, "api", [api_order(newer, "it", "APJ6JRA9NG5V4")])
    assert stage.forget_stale_items(db, "it", "interleaved") == 1
    fetched, lines_left = db.execute(
        "SELECT items_fetched, (SELECT count(*) FROM mip.stage_order_items WHERE run_id = 'interleaved')"
        " FROM mip.stage_orders WHERE run_id = 'interleaved'"
    ).fetchone()
    assert (fetched, lines_left) == (False, 0)
