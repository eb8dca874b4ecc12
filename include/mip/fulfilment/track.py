"""Track: the supplier's tracking (carrier, tracking number, ship date) for the orders sent to it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from mip.fulfilment import outbox
from mip.fulfilment.supplier import SupplierClient
from mip.runs import RunKey

log = logging.getLogger(__name__)


def ship_date(text: str) -> datetime:
    """BigBuy's ``YYYY-MM-DD HH:MM:SS`` (UTC) or an ISO 8601 date-time."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def track(key: RunKey, conn: Any, *, supplier: SupplierClient) -> bool:
    """Record the tracking that appeared; True (done waiting) when something can be confirmed or nothing
    waits at the supplier any more."""
    sent = outbox.rows(conn, key.channel_id, ("sent",))
    found = supplier.trackings([r["supplier_order_id"] for r in sent]) if sent else {}
    for row in sent:
        tracking = found.get(row["supplier_order_id"])
        if tracking is None:
            continue
        outbox.transition(
            conn,
            key,
            row,
            "tracked",
            detail=f"{tracking['carrier']} {tracking['tracking_number']}",
            carrier=tracking["carrier"],
            tracking_number=tracking["tracking_number"],
            ship_date=ship_date(tracking["ship_date"]),
        )
    conn.commit()
    log.info("channel %s: %d of %d sent orders have tracking", key.channel_id, len(found), len(sent))
    return bool(found) or len(found) == len(sent) or bool(outbox.rows(conn, key.channel_id, ("tracked",), limit=1))
