"""Generating orders for listed SKUs, with status changes scheduled over (scaled) time.

An order is Pending at its PurchaseDate; its later statuses are events at Amazon durations after
it (divided by the time scale): MFN orders go Pending -> Unshipped -> (PartiallyShipped ->)
Shipped, AFN orders Pending -> Shipped; a few are Canceled. Events already in the past when the
order is generated are applied at once, the others by the background worker (and before every
orders query), so an order's LastUpdateDate is the time of its last status change.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sandbox.spapi import marketplaces
from sandbox.spapi.clock import DAY, HOUR, MINUTE
from sandbox.spapi.notifications import outbox
from sandbox.spapi.state import State

CITIES = {
    "IT": [("Milano", "20121"), ("Roma", "00184"), ("Torino", "10121"), ("Napoli", "80133"), ("Bologna", "40121")],
    "DE": [("Berlin", "10115"), ("München", "80331"), ("Hamburg", "20095"), ("Köln", "50667"), ("Leipzig", "04109")],
    "FR": [("Paris", "75001"), ("Lyon", "69001"), ("Marseille", "13001"), ("Lille", "59000"), ("Nantes", "44000")],
    "ES": [
        ("Madrid", "28001"),
        ("Barcelona", "08001"),
        ("Valencia", "46001"),
        ("Sevilla", "41001"),
        ("Bilbao", "48001"),
    ],
    "GB": [("London", "EC1A 1BB"), ("Manchester", "M1 1AE"), ("Leeds", "LS1 1UR"), ("Bristol", "BS1 4DJ")],
}
ORDER_PREFIX = {
    "eu": ["402", "403", "404", "405", "406", "407", "408"],
    "na": ["111", "112", "113", "114"],
    "fe": ["249", "250", "503"],
}


@dataclass
class Product:
    sku: str
    asin: str
    title: str
    price: Decimal
    afn: bool


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def products_for(
    state: State,
    conn: sqlite3.Connection,
    seller_id: str,
    marketplace_id: str,
    skus: list[str] | None,
    rng: random.Random,
) -> list[Product]:
    """The products orders are made of: the given SKUs (listed or synthetic) or the buyable listings."""
    market = marketplaces.BY_ID[marketplace_id]
    found: list[Product] = []
    if skus:
        for sku in skus:
            row = conn.execute(
                "SELECT sku, asin, item_name, price, fulfillment_channel FROM listings "
                "WHERE seller_id = ? AND marketplace_id = ? AND sku = ?",
                (seller_id, marketplace_id, sku),
            ).fetchone()
            if row is not None and row["price"] is not None and row["asin"]:
                found.append(_product(row))
            else:
                found.append(_synthetic(sku, rng, market.currency))
        return found
    rows = conn.execute(
        "SELECT sku, asin, item_name, price, fulfillment_channel FROM listings "
        "WHERE seller_id = ? AND marketplace_id = ? AND buyable = 1 AND asin IS NOT NULL ORDER BY sku",
        (seller_id, marketplace_id),
    ).fetchall()
    return [_product(r) for r in rows]


def _product(row: sqlite3.Row) -> Product:
    return Product(
        row["sku"],
        row["asin"],
        row["item_name"] or row["sku"],
        Decimal(row["price"]),
        (row["fulfillment_channel"] or "").startswith("AMAZON"),
    )


def _synthetic(sku: str, rng: random.Random, currency: str) -> Product:
    asin = "B0SBX" + "".join(rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(5))
    price = Decimal(rng.randint(500, 15000)) / 100
    return Product(sku, asin, f"Sandbox product {sku}", price, False)


SHIPPING = ("PartiallyShipped", "Shipped")


def timeline(rng: random.Random, afn: bool, items: int) -> list[tuple[float, str]]:
    """Status changes as (Amazon seconds after purchase, status)."""
    pending = rng.uniform(2, 30) * MINUTE
    if afn:
        if rng.random() < 0.03:
            return [(pending, "Canceled")]
        return [(pending + rng.uniform(2, 24) * HOUR, "Shipped")]
    if rng.random() < 0.04:
        return [(pending, "Canceled")]
    events = [(pending, "Unshipped")]
    ship = pending + rng.uniform(2, 36) * HOUR
    if rng.random() < 0.01:
        return [*events, (ship, "Canceled")]
    if items > 1 and rng.random() < 0.3:
        events.append((ship, "PartiallyShipped"))
        ship += rng.uniform(6, 24) * HOUR
    events.append((ship, "Shipped"))
    return events


def generate(
    state: State,
    seller_id: str,
    marketplace_id: str,
    count: int,
    start: float,
    end: float,
    skus: list[str] | None = None,
    items_per_order: int | None = None,
    rng: random.Random | None = None,
) -> list[str]:
    """Create ``count`` orders with PurchaseDate spread over [start, end); returns their ids."""
    if count < 0 or end <= start:
        raise ValueError("count must be >= 0 and end after start")
    account = state.db.one("SELECT region FROM accounts WHERE seller_id = ?", (seller_id,))
    if account is None:
        raise ValueError(f"no sandbox account with Seller ID {seller_id!r}")
    market = marketplaces.BY_ID[marketplace_id]
    rng = rng or random.Random(f"{state.seed}:{seller_id}:{marketplace_id}:{start}:{end}:{count}")
    now = state.clock.now()
    scale = state.clock.time_scale
    products = products_for(state, state.db.conn(), seller_id, marketplace_id, skus, rng)
    if not products:
        raise ValueError(
            f"seller {seller_id} has no buyable listing in {marketplace_id} ({market.country}) to order; "
            "pass 'skus' to order synthetic products"
        )
    by_channel = {afn: [p for p in products if p.afn == afn] for afn in (False, True)}
    with state.db.tx():
        base = state.db.reserve("orders", count)
        item_base = state.db.reserve("order_items", count * 100)
    cities = CITIES.get(market.country, [("City", "00000")])
    orders: list[tuple] = []
    items: list[tuple] = []
    events: list[tuple] = []
    created: list[tuple[str, str, str, float]] = []  # ORDER_CHANGE notifications, when subscribed
    notify = outbox.subscribed(state.db.conn(), seller_id)
    ids: list[str] = []

    def flush() -> None:  # a transaction per chunk: API writes never wait long behind a big generation
        with state.db.tx() as conn:
            conn.executemany(f"INSERT INTO orders VALUES ({','.join('?' * 18)})", orders)
            conn.executemany(f"INSERT INTO order_items VALUES ({','.join('?' * 9)})", items)
            conn.executemany("INSERT INTO order_events (amazon_order_id, at, status) VALUES (?, ?, ?)", events)
            outbox.enqueue_created(conn, created)
        created.clear()
        orders.clear()
        items.clear()
        events.clear()

    for n in range(count):
        purchase = int(start + (end - start) * (n + rng.random()) / count)
        middle = ((base + n) * 7919 + 1234567) % 10_000_000  # unique for the first 10 million orders
        order_id = f"{rng.choice(ORDER_PREFIX[account['region']])}-{middle:07d}-{rng.randrange(10_000_000):07d}"
        first = rng.choice(products)
        pool = by_channel[first.afn]
        size = items_per_order or rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
        chosen = [first]
        for _ in range(10 * size):
            if len(chosen) >= size:
                break
            candidate = rng.choice(pool)
            if items_per_order or all(candidate.sku != c.sku for c in chosen):
                chosen.append(candidate)
        total = Decimal(0)
        for position, product in enumerate(chosen):
            quantity = rng.choices((1, 2, 3), weights=(85, 12, 3))[0]
            shipping = Decimal("0.00") if product.afn or position > 0 or rng.random() < 0.6 else Decimal("3.99")
            total += product.price * quantity + shipping
            item_id = f"{(item_base + n * 100 + position + 1) * 7919 % 10**14:014d}"
            items.append(
                (
                    order_id,
                    item_id,
                    position,
                    product.sku,
                    product.asin,
                    product.title,
                    quantity,
                    _money(product.price),
                    _money(shipping),
                )
            )
        status, last_update, paid = "Pending", purchase, 0
        for offset, new_status in timeline(rng, first.afn, len(chosen)):
            if state.settings.ship_on_confirmation and not first.afn and new_status in SHIPPING:
                continue  # the seller ships it: confirmShipment changes the status
            at = purchase + offset / scale
            if at <= now:
                status, last_update = new_status, int(at)
                paid = paid or int(new_status in ("Unshipped", "PartiallyShipped", "Shipped"))
            else:
                events.append((order_id, at, new_status))
        city, postal = rng.choice(cities)
        orders.append(
            (
                order_id,
                seller_id,
                marketplace_id,
                purchase,
                last_update,
                status,
                "AFN" if first.afn else "MFN",
                "Standard" if first.afn else f"Std {market.country} Dom",
                market.currency,
                _money(total),
                paid,
                len(chosen),
                city,
                postal,
                market.country,
                int(rng.random() < 0.05),
                int(first.afn and rng.random() < 0.5),
                int(purchase + 2 * DAY / scale),
            )
        )
        ids.append(order_id)
        if notify:
            created.append((seller_id, order_id, status, purchase))
        if len(orders) >= 2000:
            flush()
    flush()
    state.kick()
    return ids


def advance(state: State, now: float | None = None) -> int:
    """Apply every status change that is due; returns how many were applied."""
    now = state.clock.now() if now is None else now
    if state.db.one("SELECT 1 FROM order_events WHERE at <= ? LIMIT 1", (now,)) is None:
        return 0
    with state.db.tx() as conn:
        due = conn.execute(
            "SELECT id, amazon_order_id, at, status FROM order_events WHERE at <= ? ORDER BY at, id", (now,)
        ).fetchall()
        for event in due:
            paid = int(event["status"] in ("Unshipped", "PartiallyShipped", "Shipped"))
            conn.execute(
                "UPDATE orders SET status = ?, last_update_date = ?, paid = MAX(paid, ?) WHERE amazon_order_id = ?",
                (event["status"], int(event["at"]), paid, event["amazon_order_id"]),
            )
            outbox.enqueue_status_change(conn, event["amazon_order_id"], event["status"], int(event["at"]))
        conn.executemany("DELETE FROM order_events WHERE id = ?", [(e["id"],) for e in due])
    state.kick()  # the worker delivers the ORDER_CHANGE notifications of these changes
    return len(due)
