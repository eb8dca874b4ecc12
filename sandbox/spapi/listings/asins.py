"""The region-wide Amazon catalog: ASINs and the GTIN each one was created with.

One GTIN belongs to one ASIN per region; a listing whose GTIN is registered to an ASIN of another
brand is refused (issue 8572), a new GTIN creates a new ASIN.
"""

from __future__ import annotations

import sqlite3

from sandbox.spapi.state import State

_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base36(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rest = divmod(number, 36)
        chars.append(_DIGITS[rest])
    return "".join(reversed(chars))


def new_asin(state: State) -> str:
    number = state.db.next_value("asin") * 7919 + state.seed * 1_000_003
    return "B0" + _base36(number % 36**8, 8)


def by_gtin(conn: sqlite3.Connection, region: str, key: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM catalog_items WHERE region = ? AND gtin = ?", (region, key)).fetchone()


def by_asin(conn: sqlite3.Connection, region: str, asin: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM catalog_items WHERE region = ? AND asin = ?", (region, asin)).fetchone()


def create(
    state: State,
    conn: sqlite3.Connection,
    region: str,
    key: str | None,
    brand: str | None,
    item_name: str | None,
    product_type: str | None,
    asin: str | None = None,
) -> str:
    asin = asin or new_asin(state)
    conn.execute(
        "INSERT INTO catalog_items VALUES (?, ?, ?, ?, ?, ?, ?)",
        (asin, region, key, brand, item_name, product_type, state.clock.now()),
    )
    return asin


def same_brand(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()
