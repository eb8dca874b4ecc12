"""What Amazon has to notify: one outbox row per order change of a seller subscribed to ORDER_CHANGE.

Rows are written in the same transaction as the change itself (order generation, status changes),
due when the change becomes visible (an order generated with a future PurchaseDate is notified at
that time). The worker delivers due rows (mip's queue: ``delivery``); the rows stay as the truth of
what was notified, dropped, held or sent twice.
"""

from __future__ import annotations

import sqlite3

ORDER_CHANGE = "ORDER_CHANGE"
_SUBSCRIBED = (
    "SELECT 1 FROM subscriptions WHERE seller_id = ? AND notification_type = 'ORDER_CHANGE' AND destination_id IN "
    "(SELECT destination_id FROM destinations)"
)


def subscribed(conn: sqlite3.Connection, seller_id: str) -> bool:
    return conn.execute(_SUBSCRIBED, (seller_id,)).fetchone() is not None


def enqueue_created(conn: sqlite3.Connection, rows: list[tuple[str, str, str, float]]) -> None:
    """New orders: (seller_id, amazon_order_id, status, purchase_date); due at the purchase date."""
    conn.executemany(
        "INSERT INTO notification_outbox (seller_id, amazon_order_id, change_type, status, changed_at, due_at) "
        "VALUES (?, ?, 'OrderStatusChange', ?, ?, ?)",
        [(seller, order_id, status, at, at) for seller, order_id, status, at in rows],
    )


def enqueue_status_change(conn: sqlite3.Connection, order_id: str, status: str, at: float) -> None:
    """A status change of an existing order, for its seller when subscribed."""
    conn.execute(
        "INSERT INTO notification_outbox (seller_id, amazon_order_id, change_type, status, changed_at, due_at) "
        "SELECT o.seller_id, o.amazon_order_id, 'OrderStatusChange', ?, ?, ? FROM orders o "
        f"WHERE o.amazon_order_id = ? AND EXISTS ({_SUBSCRIBED.replace('seller_id = ?', 'seller_id = o.seller_id')})",
        (status, at, at, order_id),
    )
