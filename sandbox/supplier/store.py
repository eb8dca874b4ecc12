"""The stand-in's state: orders (SQLite under the state directory), the prepaid balance, stock and faults.

Orders are keyed by the seller's ``internalReference``: a second create with the same reference is
refused with BigBuy's ER008 (order already exists, its id in the data), so a seller never pays twice.
Tracking appears ``handling_hours`` supplier hours after an order was created (divided by the time
scale), or at once for ``POST /_supplier/ship``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

CARRIERS = ("GLS", "DHL", "UPS")
SHIPPING_COST = Decimal("4.00")
VAT = Decimal("1.21")

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reference TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    total TEXT NOT NULL,
    created_at REAL NOT NULL,
    ship_at REAL NOT NULL,
    carrier TEXT NOT NULL,
    tracking_number TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS purse (id INTEGER PRIMARY KEY CHECK (id = 1), amount TEXT NOT NULL);
"""


@dataclass
class Faults:
    """Switched through ``POST /_supplier/faults``; each counter is spent one call at a time."""

    error_5xx: int = 0  # the next N API calls answer 500
    timeout_after_create: int = 0  # the next N creates create the order, then answer 504
    out_of_stock: set[str] = field(default_factory=set)  # product references with no stock
    refused_postcodes: set[str] = field(default_factory=set)  # addresses the carrier refuses

    def as_dict(self) -> dict[str, Any]:
        return {
            "error_5xx": self.error_5xx,
            "timeout_after_create": self.timeout_after_create,
            "out_of_stock": sorted(self.out_of_stock),
            "refused_postcodes": sorted(self.refused_postcodes),
        }


def unit_price(reference: str) -> Decimal:
    """A stable wholesale price per product reference (5.00 to 54.99 EUR, VAT excluded)."""
    digest = int(hashlib.sha256(reference.encode()).hexdigest()[:8], 16)
    return Decimal(500 + digest % 5000) / 100


class SupplierStore:
    def __init__(self, state_dir: Path, *, time_scale: float, handling_hours: float, balance: Decimal) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.time_scale = time_scale
        self.handling_hours = handling_hours
        self.faults = Faults()
        self.calls: dict[str, int] = {}
        self.duplicate_creates: dict[str, int] = {}
        self.lock = threading.Lock()
        self.db = sqlite3.connect(state_dir / "supplier.sqlite3", check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.db.execute("INSERT OR IGNORE INTO purse VALUES (1, ?)", (str(balance),))

    # --- money -------------------------------------------------------------------------------
    def balance(self) -> Decimal:
        return Decimal(self.db.execute("SELECT amount FROM purse").fetchone()["amount"])

    def top_up(self, amount: Decimal) -> Decimal:
        with self.lock:
            new = self.balance() + amount
            self.db.execute("UPDATE purse SET amount = ?", (str(new),))
            return new

    def set_balance(self, amount: Decimal) -> None:
        with self.lock:
            self.db.execute("UPDATE purse SET amount = ?", (str(amount),))

    @staticmethod
    def totals(products: list[dict[str, Any]]) -> dict[str, float]:
        goods = sum((unit_price(p["reference"]) * int(p["quantity"]) for p in products), Decimal(0))
        without_taxes = goods + SHIPPING_COST
        return {
            "totalWithoutTaxesAndWithoutShippingCost": float(goods),
            "totalWithoutTaxes": float(without_taxes),
            "total": float((without_taxes * VAT).quantize(Decimal("0.01"))),
        }

    # --- orders ------------------------------------------------------------------------------
    def by_reference(self, reference: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM orders WHERE reference = ?", (reference,)).fetchone()

    def by_id(self, order_id: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()

    def create(self, order: dict[str, Any], total: Decimal) -> tuple[int, bool]:
        """(supplier order id, created now); an existing reference returns its order, charging nothing."""
        reference = order["internalReference"]
        with self.lock:
            found = self.by_reference(reference)
            if found is not None:
                self.duplicate_creates[reference] = self.duplicate_creates.get(reference, 0) + 1
                return found["id"], False
            balance = self.balance()
            if balance < total:
                raise InsufficientBalance(balance, total)
            now = time.time()
            ship_at = now + self.handling_hours * 3600 / self.time_scale
            digest = hashlib.sha256(reference.encode()).hexdigest()
            carrier = CARRIERS[int(digest[:2], 16) % len(CARRIERS)]
            cursor = self.db.execute(
                "INSERT INTO orders (reference, body, total, created_at, ship_at, carrier, tracking_number) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (reference, json.dumps(order), str(total), now, ship_at, carrier, digest[:14].upper()),
            )
            self.db.execute("UPDATE purse SET amount = ?", (str(balance - total),))
            return int(cursor.lastrowid), True

    def ship_now(self) -> int:
        with self.lock:
            now = time.time()
            return self.db.execute("UPDATE orders SET ship_at = ? WHERE ship_at > ?", (now, now)).rowcount

    def all_orders(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM orders ORDER BY id").fetchall()

    def count(self, name: str) -> None:
        with self.lock:
            self.calls[name] = self.calls.get(name, 0) + 1


class InsufficientBalance(Exception):
    def __init__(self, balance: Decimal, total: Decimal) -> None:
        super().__init__(f"balance {balance} < order total {total}")
        self.balance, self.total = balance, total
