"""Send: each gated order is checked, then created at the supplier, recorded before it is sent.

Per order: the address (RDT, ``mip.fulfilment.address``) -> ``check`` (prices, stock, balance, address)
-> the row is set ``sending`` and committed -> ``create`` -> ``sent`` with the supplier's order id,
committed. A row found ``sending`` (a retried or killed task) is first looked up at the supplier by its
reference (the Amazon order id) and adopted when the supplier has it, so there is never a second supplier
order. An order Amazon gives no address for any more (cancelled while it waited) is checked with getOrder
and becomes ``cancelled`` without being sent. Refusals (balance, stock, address) leave the order
``refused`` with the reason and the fix; balance and stock refusals are retried on every run.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from mip.fulfilment import outbox
from mip.fulfilment.address import RDT_BATCH, fetch_addresses, supplier_address
from mip.fulfilment.supplier import Refused, SupplierClient, Unavailable
from mip.runs import RunKey, StepFailed

log = logging.getLogger(__name__)
FIX_ADDRESS_INCOMPLETE = "Amazon's address has no name or street: check the order in Seller Central; it is not retried"


def supplier_order(key: RunKey, row: dict[str, Any], address: dict[str, str]) -> dict[str, Any]:
    quantities: Counter[str] = Counter()
    for line in outbox.lines_of(row):
        quantities[line["reference"]] += int(line["quantity"])
    return {
        "internalReference": row["amazon_order_id"],
        "language": key.channel.marketplace.country.lower(),
        "paymentMethod": "moneybox",
        "carriers": [{"name": "gls"}, {"name": "dhl"}, {"name": "ups"}],
        "shippingAddress": address,
        "products": [{"reference": ref, "quantity": qty} for ref, qty in sorted(quantities.items())],
    }


def _adopt_sending(key: RunKey, conn: Any, supplier: SupplierClient, summary: Counter) -> None:
    """Rows left ``sending`` by an earlier try: adopt the supplier's order, or send them again."""
    for row in outbox.rows(conn, key.channel_id, ("sending",)):
        existing = supplier.find(row["amazon_order_id"])
        if existing is not None:
            outbox.transition(
                conn,
                key,
                row,
                "sent",
                detail=f"adopted supplier order {existing}",
                supplier_order_id=existing,
                sent_at=datetime.now(UTC),
            )
            summary["adopted"] += 1
        else:
            outbox.transition(conn, key, row, "checked", detail="the supplier has no order for it: send again")
        conn.commit()


def _cancelled(key: RunKey, conn: Any, gateway: Any, row: dict[str, Any]) -> bool:
    from mip.amazon import apis

    country = key.channel.marketplace.country
    orders = apis.orders(gateway, country)
    payload = gateway.call("getOrder", lambda: orders.get_order(row["amazon_order_id"]), country=country).payload
    status = payload.get("OrderStatus")
    conn.execute(
        "UPDATE mip.orders SET order_status = %s WHERE seller_id = %s AND amazon_order_id = %s AND %s = 'Canceled'",
        (status, row["seller_id"], row["amazon_order_id"], status),
    )
    return status == "Canceled"


def _send_one(key: RunKey, conn: Any, supplier: SupplierClient, row: dict[str, Any], address: dict) -> str:
    order = supplier_order(key, row, address)
    try:
        total = supplier.check(order)
        if row["state"] != "checked":
            outbox.transition(conn, key, row, "checked", supplier_total=total)
        outbox.transition(conn, key, row, "sending", attempts=row["attempts"] + 1)
        conn.commit()  # recorded before sent
        supplier_id, adopted = supplier.create(order)
    except Refused as exc:
        if exc.reason == "credentials":
            raise StepFailed(f"the supplier refused the API key: {exc.detail}", fix=exc.fix) from None
        if not (row["state"] == "refused" and row["reason"] == exc.reason):
            outbox.refuse(conn, key, row, exc.reason, exc.fix, exc.detail)
        conn.commit()
        return "refused"
    detail = f"supplier order {supplier_id}" + (" (adopted)" if adopted else "")
    outbox.transition(
        conn,
        key,
        row,
        "sent",
        detail=detail,
        supplier_order_id=supplier_id,
        sent_at=datetime.now(UTC),
        reason=None,
        fix=None,
    )
    conn.commit()
    return "sent"


def send(key: RunKey, conn: Any, gateway: Any, *, supplier: SupplierClient, limit: int | None = None) -> dict:
    summary: Counter[str] = Counter()
    _adopt_sending(key, conn, supplier, summary)
    retried = ", ".join(f"'{r}'" for r in outbox.RETRIED_REFUSALS)
    todo = outbox.rows(
        conn,
        key.channel_id,
        ("gated", "checked", "refused"),
        extra_where=f"(state <> 'refused' OR reason IN ({retried}))",
        limit=limit,
    )
    if not todo:
        return dict(summary)
    try:
        for start in range(0, len(todo), RDT_BATCH):
            _send_batch(key, conn, gateway, supplier, todo[start : start + RDT_BATCH], summary)
    except Unavailable:
        log.info("channel %s: %s (supplier calls %s)", key.channel_id, dict(summary), supplier.calls)
        raise  # retried by the task; rows left sending are adopted or sent again then
    log.info("channel %s: %s (supplier calls %s)", key.channel_id, dict(summary), supplier.calls)
    return dict(summary)


def _send_batch(key: RunKey, conn: Any, gateway: Any, supplier: SupplierClient, batch: list, summary: Counter) -> None:
    """One RDT's worth of orders: their addresses are fetched right before they are sent, then dropped."""
    addresses = fetch_addresses(gateway, key.channel.marketplace.country, [r["amazon_order_id"] for r in batch])
    try:
        for row in batch:
            address = addresses.pop(row["amazon_order_id"], None)
            if address is None:
                if _cancelled(key, conn, gateway, row):
                    outbox.transition(conn, key, row, "cancelled", detail="Amazon cancelled it before it was sent")
                    summary["cancelled"] += 1
                else:
                    summary["no_address_yet"] += 1
                conn.commit()
                continue
            shipping = supplier_address(address)
            del address  # personal data: not kept beyond this order
            if shipping is None:
                outbox.refuse(conn, key, row, "address_incomplete", FIX_ADDRESS_INCOMPLETE)
                summary["refused"] += 1
                conn.commit()
                continue
            summary[_send_one(key, conn, supplier, row, shipping)] += 1
    finally:
        addresses.clear()
