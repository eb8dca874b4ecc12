"""Gate: seller-fulfilled orders in a shippable status, not yet in the outbox, enter it checked for quality.

An order passes when its address is complete as far as the order shows it without personal data (city,
postal code, country), every line's SKU maps to a supplier reference through ``mip.listings`` (for an
International Listing channel: its own listings, else its main channel's, where Amazon copied the offer
from), every quantity is positive and every line has Amazon's OrderItemId (confirmShipment names it).
A failing order is ``refused`` with the reason and the fix; refused-at-the-gate orders are gated again each
run, so fixing the mapping is enough. Orders Amazon cancelled before they were sent become ``cancelled``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from mip.fulfilment import outbox
from mip.runs import RunKey

log = logging.getLogger(__name__)
SHIPPABLE = ("Unshipped", "PartiallyShipped")
GATE_REASONS = ("address_incomplete", "unmapped_sku", "bad_quantity", "order_item_id_missing")
FIXES = {
    "address_incomplete": "the order shows no complete shipping address (city, postal code, country): check it in "
    "Seller Central; the gate retries every run",
    "unmapped_sku": "map the SKU to a supplier reference (publish it through MIP so mip.listings has its "
    "reference); the gate retries every run",
    "bad_quantity": "a line has no positive quantity: check the order in Seller Central",
    "order_item_id_missing": "the order was imported from the report only: the next mip_orders run through the "
    "API fills the OrderItemId; the gate retries every run",
}

_CANDIDATES = """
SELECT o.seller_id, o.amazon_order_id, o.account_id, o.marketplace_id, o.order_status,
       coalesce(o.raw->>'LatestShipDate', o.raw->>'latest-ship-date') AS latest_ship_date,
       coalesce(o.raw->'ShippingAddress'->>'City', o.raw->>'ship-city') AS city,
       coalesce(o.raw->'ShippingAddress'->>'PostalCode', o.raw->>'ship-postal-code') AS postal_code,
       coalesce(o.raw->'ShippingAddress'->>'CountryCode', o.raw->>'ship-country') AS country,
       f.state AS outbox_state, f.reason AS outbox_reason
FROM mip.orders o
LEFT JOIN mip.fulfilment_orders f USING (seller_id, amazon_order_id)
WHERE o.channel_id = %(channel)s AND coalesce(o.fulfillment_channel, 'MFN') = 'MFN'
  AND o.order_status = ANY(%(shippable)s)
  AND (f.state IS NULL OR (f.state = 'refused' AND f.reason = ANY(%(gate_reasons)s)))
ORDER BY 6 NULLS LAST, o.amazon_order_id
"""


def _lines(conn: Any, key: RunKey, order: dict[str, Any]) -> list[dict[str, Any]]:
    channels = [key.channel_id] + ([key.channel.linked_main] if key.channel.linked_main else [])
    found = conn.execute(
        "SELECT i.order_item_id, i.sku, i.quantity,"
        " (SELECT l.reference FROM mip.listings l WHERE l.sku = i.sku AND l.channel_id = ANY(%s)"
        "  AND l.reference IS NOT NULL ORDER BY l.channel_id = %s DESC LIMIT 1)"
        " FROM mip.order_items i WHERE i.seller_id = %s AND i.amazon_order_id = %s ORDER BY i.item_key",
        (channels, key.channel_id, order["seller_id"], order["amazon_order_id"]),
    ).fetchall()
    return [{"order_item_id": r[0], "sku": r[1], "quantity": r[2], "reference": r[3]} for r in found]


def verdict(order: dict[str, Any], lines: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(reason, detail) of the first failed rule, None when the order passes."""
    if not all((order.get(f) or "").strip() for f in ("city", "postal_code", "country")):
        return "address_incomplete", "missing city, postal code or country"
    if not lines:
        return "unmapped_sku", "the order has no lines"
    unmapped = [line["sku"] for line in lines if not line["reference"]]
    if unmapped:
        return "unmapped_sku", f"SKU without a supplier reference: {', '.join(map(str, unmapped))}"
    if any((line["quantity"] or 0) <= 0 for line in lines):
        return "bad_quantity", "a line's quantity is not positive"
    if any(not line["order_item_id"] for line in lines):
        return "order_item_id_missing", "a line has no OrderItemId"
    return None


def _cancel_unsent(conn: Any, key: RunKey) -> int:
    """Orders Amazon cancelled that were not sent yet: cancelled (never sent afterwards)."""
    cancelled = conn.execute(
        "SELECT f.seller_id, f.amazon_order_id FROM mip.fulfilment_orders f JOIN mip.orders o"
        " USING (seller_id, amazon_order_id) WHERE f.channel_id = %s AND o.order_status = 'Canceled'"
        " AND f.state IN ('gated', 'checked', 'refused')",
        (key.channel_id,),
    ).fetchall()
    for seller_id, order_id in cancelled:
        row = {"seller_id": seller_id, "amazon_order_id": order_id}
        outbox.transition(conn, key, row, "cancelled", detail="Amazon cancelled the order before it was sent")
    return len(cancelled)


def gate(key: RunKey, conn: Any) -> dict[str, int]:
    from psycopg.rows import dict_row

    summary = {"gated": 0, "refused": 0, "cancelled": _cancel_unsent(conn, key)}
    with conn.cursor(row_factory=dict_row) as cur:
        params = {"channel": key.channel_id, "shippable": list(SHIPPABLE), "gate_reasons": list(GATE_REASONS)}
        candidates = cur.execute(_CANDIDATES, params).fetchall()
    for order in candidates:
        lines = _lines(conn, key, order)
        failed = verdict(order, lines)
        state = "refused" if failed else "gated"
        reason, detail = failed or (None, None)
        if order["outbox_state"] is None:
            conn.execute(
                "INSERT INTO mip.fulfilment_orders (seller_id, amazon_order_id, account_id, channel_id,"
                " marketplace_id, state, reason, fix, latest_ship_date, lines)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    order["seller_id"],
                    order["amazon_order_id"],
                    order["account_id"] or key.account_id,
                    key.channel_id,
                    order["marketplace_id"],
                    state,
                    reason,
                    FIXES.get(reason or ""),
                    order["latest_ship_date"],
                    json.dumps(lines),
                ),
            )
            outbox.event(conn, key, order, state, detail)
        elif failed is None or order["outbox_reason"] != reason:
            outbox.transition(
                conn,
                key,
                order,
                state,
                detail=detail,
                reason=reason,
                fix=FIXES.get(reason or ""),
                lines=json.dumps(lines),
            )
        summary[state] += 1
    log.info("channel %s: %s", key.channel_id, summary)
    return summary
