"""Report documents: tab-separated text with Amazon's column names, built from the state.

Faults apply when the document is generated: ``truncated_reports`` cuts it in the middle of a row,
``malformed_reports`` drops a column from one row and adds a garbage line.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sandbox.spapi import marketplaces
from sandbox.spapi.orders.render import item_tax, priced, shipped_quantities

LISTINGS_COLUMNS = (
    "item-name",
    "item-description",
    "listing-id",
    "seller-sku",
    "price",
    "quantity",
    "open-date",
    "image-url",
    "item-is-marketplace",
    "product-id-type",
    "zshop-shipping-fee",
    "item-note",
    "item-condition",
    "zshop-category1",
    "zshop-browse-path",
    "zshop-storefront-feature",
    "asin1",
    "asin2",
    "asin3",
    "will-ship-internationally",
    "expedited-shipping",
    "zshop-boldface",
    "product-id",
    "bid-for-featured-placement",
    "add-delete",
    "pending-quantity",
    "fulfillment-channel",
    "merchant-shipping-group",
    "status",
)
ORDERS_COLUMNS = (
    "amazon-order-id",
    "merchant-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "order-channel",
    "ship-service-level",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "promotion-ids",
    "is-business-order",
    "purchase-order-number",
    "price-designation",
)
PRODUCT_ID_TYPES = {"ean": "4", "jan": "4", "gtin": "4", "upc": "3", "isbn": "2"}
REPORT_TYPES = ("GET_MERCHANT_LISTINGS_ALL_DATA", "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL")


def _clean(value: Any) -> str:
    if value is None:
        return ""
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _listing_id(seller_id: str, marketplace_id: str, sku: str) -> str:
    digest = hashlib.sha1(f"{seller_id}/{marketplace_id}/{sku}".encode()).hexdigest().upper()
    return "0" + digest[:3] + str(int(digest[3:12], 16))[:6] + digest[12]


def _open_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def listings_rows(conn: sqlite3.Connection, seller_id: str, marketplace_ids: list[str]):
    marks = ",".join("?" for _ in marketplace_ids)
    for r in conn.execute(
        f"SELECT * FROM listings WHERE seller_id = ? AND marketplace_id IN ({marks}) ORDER BY marketplace_id, sku",
        [seller_id, *marketplace_ids],
    ):
        afn = (r["fulfillment_channel"] or "").startswith("AMAZON")
        status = "Active" if r["buyable"] and r["asin"] else ("Incomplete" if r["asin"] is None else "Inactive")
        yield (
            r["item_name"],
            r["description"],
            _listing_id(seller_id, r["marketplace_id"], r["sku"]),
            r["sku"],
            r["price"],
            "" if afn else (r["quantity"] if r["quantity"] is not None else ""),
            _open_date(r["created_at"]),
            r["image"],
            "y",
            PRODUCT_ID_TYPES.get((r["gtin_type"] or "").lower(), "1"),
            "",
            "",
            "11",
            "",
            "",
            "",
            r["asin"],
            "",
            "",
            "",
            "",
            "",
            r["gtin"] or r["asin"],
            "",
            "",
            "0",
            r["fulfillment_channel"] or "DEFAULT",
            "" if afn else "Migrated Template",
            status,
        )


def _flat_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def orders_rows(conn: sqlite3.Connection, seller_id: str, marketplace_ids: list[str], start: float, end: float):
    marks = ",".join("?" for _ in marketplace_ids)
    orders = conn.execute(
        f"SELECT * FROM orders WHERE seller_id = ? AND marketplace_id IN ({marks}) AND last_update_date >= ? "
        "AND last_update_date <= ? ORDER BY last_update_date, amazon_order_id",
        [seller_id, *marketplace_ids, start, end],
    ).fetchall()
    for order in orders:
        market = marketplaces.BY_ID[order["marketplace_id"]]
        items = conn.execute(
            "SELECT * FROM order_items WHERE amazon_order_id = ? ORDER BY position", (order["amazon_order_id"],)
        ).fetchall()
        status = "Cancelled" if order["status"] == "Canceled" else order["status"]
        show = priced(order)
        for item, shipped in zip(items, shipped_quantities(order, items), strict=True):
            gross = Decimal(item["unit_price"]) * item["quantity"]
            shipping = Decimal(item["shipping_price"])
            item_status = "Cancelled" if status == "Cancelled" else ("Shipped" if shipped else "Unshipped")
            yield (
                order["amazon_order_id"],
                "",
                _flat_date(order["purchase_date"]),
                _flat_date(order["last_update_date"]),
                status,
                "Amazon" if order["fulfillment_channel"] == "AFN" else "Merchant",
                market.name,
                "",
                order["ship_service_level"],
                item["title"],
                item["seller_sku"],
                item["asin"],
                item_status,
                item["quantity"],
                order["currency"],
                f"{gross:.2f}" if show else "",
                f"{item_tax(gross, market.vat_percent):.2f}" if show else "",
                f"{shipping:.2f}" if show else "",
                f"{item_tax(shipping, market.vat_percent):.2f}" if show else "",
                "",
                "",
                "",
                "",
                order["ship_city"],
                "",
                order["ship_postal_code"],
                order["ship_country"],
                "",
                "true" if order["is_business"] else "false",
                "",
                "",
            )


def build(conn: sqlite3.Connection, report: Any) -> tuple[bytes, int]:
    """The report's TSV bytes (UTF-8) and its row count."""
    marketplace_ids = json.loads(report["marketplace_ids"])
    if report["report_type"] == "GET_MERCHANT_LISTINGS_ALL_DATA":
        columns, rows = LISTINGS_COLUMNS, listings_rows(conn, report["seller_id"], marketplace_ids)
    else:
        columns = ORDERS_COLUMNS
        rows = orders_rows(conn, report["seller_id"], marketplace_ids, report["data_start"], report["data_end"])
    out = io.StringIO()
    out.write("\t".join(columns) + "\n")
    count = 0
    for row in rows:
        out.write("\t".join(_clean(v) for v in row) + "\n")
        count += 1
    return out.getvalue().encode("utf-8"), count


def truncate(content: bytes) -> bytes:
    """Cut the document in the middle of a data row (never at a line boundary)."""
    lines = content.split(b"\n")
    if len(lines) < 3:
        return content[: max(1, len(content) // 2)]
    cut_line = max(1, (len(lines) - 1) * 2 // 3)
    prefix = b"\n".join(lines[:cut_line]) + b"\n"
    row = lines[cut_line] or b"x\tx"
    return prefix + row[: max(1, len(row) // 2)]


def malform(content: bytes) -> bytes:
    """Drop the last column of one data row and insert a garbage line."""
    lines = content.rstrip(b"\n").split(b"\n")
    if len(lines) >= 2:
        target = min(len(lines) - 1, max(1, len(lines) // 2))
        lines[target] = lines[target].rsplit(b"\t", 1)[0]
        lines.insert(target + 1, b"<<< sandbox: garbage line, not a report row >>>")
    else:
        lines.append(b"<<< sandbox: garbage line, not a report row >>>")
    return b"\n".join(lines) + b"\n"
