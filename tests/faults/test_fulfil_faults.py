"""Fulfilment faults: each case runs the loop's steps against both stand-ins with a fault switched on,
then compares with both truths (the supplier's orders, Amazon's confirmed shipments): 0 orders sent twice,
0 lost, every shipped order confirmed once with the supplier's tracking. Each case adds a row to the fault
table (orders duplicated = sent to the supplier twice, double submissions = confirmed twice)."""

from __future__ import annotations

import threading

import pytest

from mip.fulfilment.confirm import confirm
from mip.fulfilment.gate import gate
from mip.fulfilment.risk import refusals
from mip.fulfilment.send import send
from mip.fulfilment.supplier import SupplierClient, Unavailable
from mip.fulfilment.track import track
from mip.runs import StepFailed
from tests.faults.conftest import FaultRow
from tests.fulfilment import conftest as fulfilment
from tests.fulfilment.conftest import both_truths, import_orders, key, shippable, states
from tests.waiting import wait_until

# the fulfilment tests' fixtures: both stand-ins of this module's own, a supplier client, a clean outbox
spapi, supplier, client, fresh = fulfilment.spapi, fulfilment.supplier, fulfilment.client, fulfilment.fresh


def finish(db, gateway, client, supplier, run_id: str) -> None:
    """A later, fault-free run: send what is left, ship, track, confirm."""
    k = key(run_id=run_id)
    gate(k, db)
    db.commit()
    send(k, db, gateway, supplier=client)
    supplier.admin("POST", "ship")
    track(k, db, supplier=client)
    confirm(k, db, gateway)
    db.commit()


def record(fault_table, fault: str, runs: int, result: dict, rejected: str = "-") -> None:
    fault_table(
        FaultRow(fault, runs, len(result["lost"]), result["sent_twice"], len(result["confirmed_twice"]), rejected)
    )


def assert_clean(result: dict) -> None:
    assert (result["sent_twice"], result["lost"], result["confirmed_twice"]) == (0, [], []), result
    assert (result["wrong_tracking"], result["unconfirmed"]) == ([], []), result


@pytest.mark.parametrize("burst", [2, 12], ids=["short-burst", "longer-than-retries"])
def test_supplier_5xx_bursts(fresh, spapi, supplier, client, make_gateway, fault_table, burst):
    db, gateway = fresh, make_gateway(spapi)
    ids = import_orders(db, spapi, gateway, 6)
    wanted = shippable(spapi, ids)
    supplier.admin("POST", "faults", json={"error_5xx": burst})
    k = key()
    gate(k, db)
    db.commit()
    runs = 1
    try:
        send(k, db, gateway, supplier=client)
    except Unavailable:
        db.rollback()
        runs += 1  # the task's retry
    supplier.admin("DELETE", "faults")
    finish(db, gateway, client, supplier, "run-2")
    result = both_truths(db, spapi, supplier, set(ids), wanted)
    record(fault_table, "supplier 5xx bursts", runs, result)
    assert_clean(result)
    assert result["confirmed"] == len(wanted)


def test_supplier_timeout_after_the_order_was_created(fresh, spapi, supplier, client, make_gateway, fault_table):
    db, gateway = fresh, make_gateway(spapi)
    ids = import_orders(db, spapi, gateway, 5)
    wanted = shippable(spapi, ids)
    supplier.admin("POST", "faults", json={"timeout_after_create": 2})
    finish(db, gateway, client, supplier, "run-1")
    result = both_truths(db, spapi, supplier, set(ids), wanted)
    adopted = db.execute("SELECT count(*) FROM mip.fulfilment_events WHERE detail LIKE '%%(adopted)'").fetchone()[0]
    record(fault_table, "supplier timeout after create", 1, result)
    assert_clean(result)
    assert adopted == 2 and result["duplicate_creates"] == 0, "adopted by reference, never created again"


class KilledAfterCreate(SupplierClient):
    """The worker dies right after the supplier created the order, before MIP recorded it."""

    def create(self, order):
        super().create(order)
        raise SystemExit("worker killed between the create call and its record")


def test_worker_killed_between_create_and_record(fresh, spapi, supplier, make_gateway, fault_table):
    from mip.fulfilment.supplier import SupplierClient

    db, gateway = fresh, make_gateway(spapi)
    ids = import_orders(db, spapi, gateway, 5)
    wanted = shippable(spapi, ids)
    k = key()
    gate(k, db)
    db.commit()
    with pytest.raises(SystemExit):
        send(k, db, gateway, supplier=KilledAfterCreate(supplier.base_url, supplier.api_key, base_delay=0.01))
    db.rollback()
    assert list(states(db, ids).values()).count("sending") == 1, "recorded sending before the create call"
    again = SupplierClient(supplier.base_url, supplier.api_key, base_delay=0.01)
    finish(db, gateway, again, supplier, "run-2")
    result = both_truths(db, spapi, supplier, set(ids), wanted)
    record(fault_table, "worker killed between supplier create and record", 2, result)
    assert_clean(result)
    assert result["duplicate_creates"] == 0 and again.calls["create_order"] == len(wanted) - 1


def test_insufficient_balance_then_topped_up(fresh, spapi, supplier, client, make_gateway, fault_table):
    db, gateway = fresh, make_gateway(spapi)
    ids = import_orders(db, spapi, gateway, 5)
    wanted = shippable(spapi, ids)
    supplier.admin("POST", "purse", json={"amount": 1})
    k = key()
    gate(k, db)
    db.commit()
    send(k, db, gateway, supplier=client)
    db.commit()
    refused = db.execute("SELECT DISTINCT reason, fix FROM mip.fulfilment_orders WHERE state = 'refused'").fetchall()
    assert [r[0] for r in refused] == ["balance"] and "top up" in refused[0][1]
    with pytest.raises(StepFailed, match="balance"):
        refusals(k, db)
    supplier.admin("POST", "purse/top-up", json={"amount": 100_000})
    finish(db, gateway, client, supplier, "run-2")
    assert refusals(key(run_id="run-2"), db) == 0, "the retry of a refused order alerts nothing new"
    result = both_truths(db, spapi, supplier, set(ids), wanted)
    record(fault_table, "insufficient supplier balance, then topped up", 2, result, f"{len(wanted)} (balance)")
    assert_clean(result)
    assert result["confirmed"] == len(wanted)


def test_amazon_cancellation_racing_the_send(fresh, spapi, supplier, client, make_gateway, fault_table, mip_url):
    """Amazon cancels an order while the send is fetching addresses (getOrderAddress held until the test
    has cancelled it): the cancelled order never reaches the supplier; the others are confirmed."""
    db, gateway = fresh, make_gateway(spapi)
    ids = import_orders(db, spapi, gateway, 6)
    wanted = shippable(spapi, ids)
    k = key()
    gate(k, db)
    db.commit()
    victim = sorted(wanted)[-1]
    spapi.set_faults(hold=["getOrderAddress"])
    failure: list[BaseException] = []

    def sending() -> None:
        from mip.store.db import connect

        with connect(mip_url) as own:
            try:
                send(k, own, gateway, supplier=client)
                own.commit()
            except BaseException as exc:  # reported by the test
                failure.append(exc)

    worker = threading.Thread(target=sending)
    worker.start()
    wait_until(lambda: failure or spapi.held("getOrderAddress") > 0, what="the send to ask Amazon for an address")
    assert not failure, failure
    spapi.admin("POST", f"/_sandbox/orders/{victim}/cancel")
    spapi.release("getOrderAddress")
    spapi.reset_faults()
    worker.join()
    assert not failure, failure
    finish(db, gateway, client, supplier, "run-2")
    result = both_truths(db, spapi, supplier, set(ids), wanted)
    at_supplier = {o["reference"] for o in supplier.truth()["orders"]}
    record(fault_table, "Amazon cancellation racing the send", 2, result, "1 (cancelled, never sent)")
    assert victim not in at_supplier and states(db, [victim]) == {victim: "cancelled"}
    assert_clean(result)
    assert result["confirmed"] == len(wanted) - 1


def test_cancelled_after_it_reached_the_supplier_is_refused_not_confirmed(fresh, spapi, supplier, client, make_gateway):
    db, gateway = fresh, make_gateway(spapi)
    ids = import_orders(db, spapi, gateway, 3)
    victim = sorted(shippable(spapi, ids))[0]
    k = key()
    gate(k, db)
    db.commit()
    send(k, db, gateway, supplier=client)
    spapi.admin("POST", f"/_sandbox/orders/{victim}/cancel")
    supplier.admin("POST", "ship")
    track(k, db, supplier=client)
    confirm(k, db, gateway)
    db.commit()
    row = db.execute(
        "SELECT state, reason, fix FROM mip.fulfilment_orders WHERE amazon_order_id = %s", (victim,)
    ).fetchone()
    assert row[:2] == ("refused", "cancelled_after_sent") and "cancel the supplier order" in row[2]
    assert victim not in {s["amazonOrderId"] for s in spapi.admin("GET", "/_sandbox/shipments")}


def test_confirm_shipment_throttled(fresh, spapi, supplier, client, make_gateway, fault_table):
    db, gateway = fresh, make_gateway(spapi)
    ids = import_orders(db, spapi, gateway, 8)
    wanted = shippable(spapi, ids)
    k = key()
    gate(k, db)
    db.commit()
    send(k, db, gateway, supplier=client)
    supplier.admin("POST", "ship")
    track(k, db, supplier=client)
    spapi.set_faults(throttle_storm={"fraction": 0.5})
    retries_before = gateway.retries
    confirm(k, db, gateway)
    db.commit()
    spapi.reset_faults()
    result = both_truths(db, spapi, supplier, set(ids), wanted)
    record(fault_table, "confirmShipment throttled", 1, result)
    assert_clean(result)
    assert gateway.retries > retries_before, "the storm was met with retries"
