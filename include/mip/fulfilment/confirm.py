"""Confirm: the supplier's tracking goes to Amazon with Orders v0 ``confirmShipment``, once per order.

Orders API 2026-01-01 has only searchOrders and getOrder, so shipment confirmation stays on v0. Every call
goes through the gateway: the account's shared rate budget (usage plan 2/s, burst 10), retries of 429 and
5xx. Each confirmed order is committed at once. An order Amazon already shows Shipped (a confirmation whose
answer was lost) is recorded confirmed; one Amazon cancelled after it was sent is refused with the fix.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from mip.amazon.errors import AmazonRequestRejected
from mip.fulfilment import outbox
from mip.runs import RunKey

log = logging.getLogger(__name__)
# supplier carrier name -> Amazon CarrierCode; others go as "Other" with carrierName
CARRIER_CODES = {"GLS": "GLS", "DHL": "DHL", "UPS": "UPS", "SEUR": "SEUR", "DPD": "DPD", "TNT": "TNT", "BRT": "BRT"}
FIX_CANCELLED_AFTER_SENT = (
    "Amazon cancelled the order after it reached the supplier: cancel the supplier order in BigBuy's panel (or "
    "accept the return); nothing is confirmed on Amazon"
)


def package(row: dict[str, Any]) -> dict[str, Any]:
    code = CARRIER_CODES.get((row["carrier"] or "").upper(), "Other")
    found = {
        "packageReferenceId": "1",
        "carrierCode": code,
        "trackingNumber": row["tracking_number"],
        "shipDate": row["ship_date"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "orderItems": [
            {"orderItemId": line["order_item_id"], "quantity": int(line["quantity"])} for line in outbox.lines_of(row)
        ],
    }
    if code == "Other":
        found["carrierName"] = row["carrier"]
    return found


def confirm(key: RunKey, conn: Any, gateway: Any, *, limit: int | None = None) -> dict[str, int]:
    from mip.amazon import apis

    country = key.channel.marketplace.country
    orders = apis.orders(gateway, country)
    summary = {"confirmed": 0, "already_shipped": 0, "refused": 0}
    for row in outbox.rows(conn, key.channel_id, ("tracked",), limit=limit):
        body = {"marketplaceId": row["marketplace_id"], "packageDetail": package(row)}
        try:
            gateway.call(
                "confirmShipment",
                lambda r=row, b=body: orders.confirm_shipment(r["amazon_order_id"], **b),
                country=country,
            )
            detail, outcome = f"{row['carrier']} {row['tracking_number']}", "confirmed"
        except AmazonRequestRejected as exc:
            text = str(exc)
            if "is Shipped" in text:
                detail, outcome = "Amazon already shows it shipped", "already_shipped"
            elif "is Canceled" in text:
                outbox.refuse(conn, key, row, "cancelled_after_sent", FIX_CANCELLED_AFTER_SENT, text)
                summary["refused"] += 1
                conn.commit()
                continue
            else:
                raise
        outbox.transition(conn, key, row, "confirmed", detail=detail, confirmed_at=datetime.now(UTC))
        conn.commit()
        summary[outcome] += 1
    log.info("channel %s: %s", key.channel_id, summary)
    return summary
