"""Listings Items API 2021-08-01: get, put, patch, delete, search (with VALIDATION_PREVIEW)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sandbox.spapi.accounts import require_marketplaces
from sandbox.spapi.call import Call, decode_token, encode_token
from sandbox.spapi.clock import parse_iso
from sandbox.spapi.errors import ApiError, invalid_input
from sandbox.spapi.listings import gtin, store


def _marketplaces(call: Call) -> list[str]:
    call.require_own_seller()
    return require_marketplaces(call.state, call.seller_id, call.query.get("marketplaceIds", []))


def get_listings_item(call: Call) -> tuple[int, Any]:
    marketplace_ids = _marketplaces(call)
    sku = call.path["sku"]
    conn = call.state.db.conn()
    rows = [r for r in (store.load(conn, call.seller_id, mp, sku) for mp in marketplace_ids) if r is not None]
    if not rows:
        raise ApiError(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace(s) {', '.join(marketplace_ids)}.")
    return 200, store.render_item(rows, call.query.get("includedData", ["summaries"]))


def put_listings_item(call: Call) -> tuple[int, Any]:
    marketplace_ids = _marketplaces(call)
    preview = call.query.get("mode") == "VALIDATION_PREVIEW"
    with call.state.db.tx() as conn:
        outcome = store.put(
            call.state,
            conn,
            seller_id=call.seller_id,
            region=call.region,
            marketplace_ids=marketplace_ids,
            sku=call.path["sku"],
            body=call.body,
            preview=preview,
            source="api",
        )
    if outcome.status == "ACCEPTED":
        call.state.kick()
    return 200, outcome.response(call.query.get("includedData", ["issues"]))


def patch_listings_item(call: Call) -> tuple[int, Any]:
    marketplace_ids = _marketplaces(call)
    preview = call.query.get("mode") == "VALIDATION_PREVIEW"
    with call.state.db.tx() as conn:
        outcome = store.patch(
            call.state,
            conn,
            seller_id=call.seller_id,
            region=call.region,
            marketplace_ids=marketplace_ids,
            sku=call.path["sku"],
            product_type=call.body["productType"],
            patches=call.body["patches"],
            preview=preview,
            source="api",
        )
    if outcome.status == "ACCEPTED":
        call.state.kick()
    return 200, outcome.response(call.query.get("includedData", ["issues"]))


def delete_listings_item(call: Call) -> tuple[int, Any]:
    marketplace_ids = _marketplaces(call)
    with call.state.db.tx() as conn:
        outcome = store.delete(
            call.state, conn, seller_id=call.seller_id, marketplace_ids=marketplace_ids, sku=call.path["sku"]
        )
    call.state.kick()
    return 200, outcome.response(["issues"])


_SORT = {"sku": "sku", "createdDate": "c", "lastUpdatedDate": "u"}


def search_listings_items(call: Call) -> tuple[int, Any]:
    marketplace_ids = _marketplaces(call)
    q = call.query
    identifiers, id_type = q.get("identifiers"), q.get("identifiersType")
    if bool(identifiers) != bool(id_type):
        raise invalid_input("identifiers and identifiersType must be provided together.")
    if identifiers and (q.get("variationParentSku") or q.get("packageHierarchySku")):
        raise invalid_input("identifiers cannot be combined with variationParentSku or packageHierarchySku.")
    where = ["seller_id = ?", f"marketplace_id IN ({','.join('?' for _ in marketplace_ids)})"]
    args: list[Any] = [call.seller_id, *marketplace_ids]
    if q.get("variationParentSku") or q.get("packageHierarchySku"):
        where.append("0")  # the sandbox has no variation or package relationships
    if identifiers:
        if id_type == "SKU":
            column, values = "sku", identifiers
        elif id_type == "ASIN":
            column, values = "asin", identifiers
        elif id_type in ("EAN", "GTIN", "UPC", "JAN", "ISBN"):
            column, values = "ltrim(gtin, '0')", [gtin.catalog_key(id_type, v).lstrip("0") for v in identifiers]
        else:
            column, values = "NULL", identifiers
        where.append(f"{column} IN ({','.join('?' for _ in values)})")
        args.extend(values)
    for name, column, op in (
        ("createdAfter", "created_at", ">="),
        ("createdBefore", "created_at", "<="),
        ("lastUpdatedAfter", "updated_at", ">="),
        ("lastUpdatedBefore", "updated_at", "<="),
    ):
        if name in q:
            try:
                args.append(parse_iso(q[name]))
            except ValueError as exc:
                raise invalid_input(f"Invalid {name}: {exc}.") from None
            where.append(f"{column} {op} ?")
    status_sql = {"BUYABLE": "(asin IS NOT NULL AND buyable = 1)", "DISCOVERABLE": "asin IS NOT NULL"}
    if q.get("withStatus"):
        where.append("(" + " OR ".join(status_sql[s] for s in q["withStatus"]) + ")")
    if q.get("withoutStatus"):
        where.append("NOT (" + " OR ".join(status_sql[s] for s in q["withoutStatus"]) + ")")
    if q.get("withIssueSeverity"):
        where.append("(" + " OR ".join("issues LIKE ?" for _ in q["withIssueSeverity"]) + ")")
        args.extend(f'%"severity":"{s}"%' for s in q["withIssueSeverity"])
    sort_key = _SORT[q.get("sortBy", "lastUpdatedDate")]
    direction = q.get("sortOrder", "DESC")
    page_size = q.get("pageSize", 10)
    fingerprint = hashlib.sha1(json.dumps([where, args, sort_key, direction, page_size]).encode()).hexdigest()[:12]
    offset = 0
    if "pageToken" in q:
        token = decode_token(q["pageToken"], "pageToken")
        if token.get("q") != fingerprint:
            raise invalid_input("Invalid pageToken: it belongs to a search with other parameters.")
        offset = int(token.get("o", 0))
    conn = call.state.db.conn()
    base = (
        f"SELECT sku, MAX(updated_at) AS u, MIN(created_at) AS c FROM listings WHERE {' AND '.join(where)} GROUP BY sku"
    )
    total = conn.execute(f"SELECT COUNT(*) FROM ({base})", args).fetchone()[0]
    skus = [
        r["sku"]
        for r in conn.execute(
            f"{base} ORDER BY {sort_key} {direction}, sku {direction} LIMIT ? OFFSET ?", [*args, page_size, offset]
        )
    ]
    included = q.get("includedData", ["summaries"])
    items = []
    for sku in skus:
        rows = [r for r in (store.load(conn, call.seller_id, mp, sku) for mp in marketplace_ids) if r is not None]
        items.append(store.render_item(rows, included))
    body: dict[str, Any] = {"numberOfResults": total}
    pagination = {}
    if offset + page_size < total:
        pagination["nextToken"] = encode_token({"q": fingerprint, "o": offset + page_size})
    if offset > 0:
        pagination["previousToken"] = encode_token({"q": fingerprint, "o": max(0, offset - page_size)})
    if pagination:
        body["pagination"] = pagination
    body["items"] = items
    return 200, body


HANDLERS = {
    "getListingsItem": get_listings_item,
    "putListingsItem": put_listings_item,
    "patchListingsItem": patch_listings_item,
    "deleteListingsItem": delete_listings_item,
    "searchListingsItems": search_listings_items,
}
