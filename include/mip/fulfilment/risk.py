"""The two gates that alert: new supplier refusals of the run, and orders at risk of shipping late.

Late-shipment risk: an order without tracking (gated, checked, sending, sent or refused) whose
LatestShipDate is less than ``MIP_FULFIL_RISK_MARGIN_HOURS`` (default 24) away, or past, fails the run
naming the orders: Amazon counts it in the late shipment rate unless it ships before then.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from mip.runs import RunKey, StepFailed

NO_TRACKING = ("gated", "checked", "sending", "sent", "refused")
SHOWN = 20


def margin_hours() -> float:
    return float(os.environ.get("MIP_FULFIL_RISK_MARGIN_HOURS", "24"))


def at_risk(conn: Any, channel_ids: list[str], margin: float | None = None) -> list[tuple]:
    """(channel, order id, state, reason, LatestShipDate) of the orders at risk, soonest first."""
    horizon = datetime.now(UTC) + timedelta(hours=margin_hours() if margin is None else margin)
    return conn.execute(
        "SELECT channel_id, amazon_order_id, state, reason, latest_ship_date FROM mip.fulfilment_orders"
        " WHERE channel_id = ANY(%s) AND state = ANY(%s) AND latest_ship_date < %s"
        " ORDER BY latest_ship_date, amazon_order_id",
        (channel_ids, list(NO_TRACKING), horizon),
    ).fetchall()


def late_shipment_risk(key: RunKey, conn: Any, *, margin: float | None = None) -> int:
    margin = margin_hours() if margin is None else margin
    risky = at_risk(conn, [key.channel_id], margin)
    if not risky:
        return 0
    names = ", ".join(
        f"{order} ({state}{'/' + reason if reason else ''}, ship by {lsd:%Y-%m-%d %H:%M} UTC)"
        for _, order, state, reason, lsd in risky[:SHOWN]
    )
    more = f" and {len(risky) - SHOWN} more" if len(risky) > SHOWN else ""
    raise StepFailed(
        f"{len(risky)} order(s) of channel {key.channel_id} have no tracking within {margin:g} h of their "
        f"LatestShipDate: {names}{more}",
        fix="see docs/fulfilment.md: fix refused orders, ask the supplier about late ones, or ship by hand and "
        "confirm in Seller Central",
    )


def refusals(key: RunKey, conn: Any) -> int:
    """Fail (and so alert) when this run refused orders, each named with its reason and fix."""
    found = conn.execute(
        "SELECT DISTINCT f.amazon_order_id, f.reason, f.fix FROM mip.fulfilment_events e"
        " JOIN mip.fulfilment_orders f USING (seller_id, amazon_order_id)"
        " WHERE e.channel_id = %s AND e.run_id = %s AND e.state = 'refused' AND f.state = 'refused'"
        " ORDER BY 1",
        (key.channel_id, key.run_id),
    ).fetchall()
    if not found:
        return 0
    lines = "; ".join(f"{order}: {reason} (fix: {fix})" for order, reason, fix in found[:SHOWN])
    raise StepFailed(
        f"{len(found)} order(s) of channel {key.channel_id} refused: {lines}",
        fix="each refused order says its fix; docs/fulfilment.md, 'A refused order'",
    )


def page_summary(conn: Any, channel_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per channel, for the Marketplaces page: orders waiting at each step and the number at risk."""
    from mip.fulfilment.outbox import WAITING, counts

    found = counts(conn, channel_ids)
    risky: dict[str, int] = {}
    for channel, *_ in at_risk(conn, channel_ids):
        risky[channel] = risky.get(channel, 0) + 1
    return {
        c: {"waiting": {s: found[c][s] for s in WAITING if found[c].get(s)}, "at_risk": risky.get(c, 0)}
        for c in channel_ids
    }
