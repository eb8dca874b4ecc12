"""The Marketplaces page's fulfilment line: orders waiting at each step and those at risk, per channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta


def test_channel_views_count_waiting_orders_and_those_at_risk(fresh):
    from mip.airflow.page.overview import channel_views
    from mip.config import load_topology

    db = fresh
    soon, later = datetime.now(UTC) + timedelta(hours=2), datetime.now(UTC) + timedelta(days=5)
    rows = [
        ("O-1", "gated", None, soon),
        ("O-2", "sent", None, later),
        ("O-3", "refused", "balance", soon),
        ("O-4", "confirmed", None, soon),
        ("O-5", "tracked", None, soon),
    ]
    for order_id, state, reason, lsd in rows:
        db.execute(
            "INSERT INTO mip.fulfilment_orders (seller_id, amazon_order_id, account_id, channel_id, marketplace_id,"
            " state, reason, fix, latest_ship_date, lines) VALUES ('S', %s, 'demo', 'it', 'x', %s, %s, %s, %s, %s)",
            (order_id, state, reason, "top up" if reason else None, lsd, json.dumps([])),
        )
    db.commit()
    views = {v.channel.id: v for v in channel_views(load_topology(), db)}
    assert views["it"].activity.fulfilment == {
        "waiting": {"gated": 1, "sent": 1, "tracked": 1, "refused": 1},
        "at_risk": 2,  # gated and refused within 24 h of their LatestShipDate, without tracking
    }
    assert views["de"].activity.fulfilment == {"waiting": {}, "at_risk": 0}
