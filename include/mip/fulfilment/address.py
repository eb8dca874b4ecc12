"""The buyer's shipping address: personal data Amazon releases only under a Restricted Data Token.

Fetched only for the orders about to be sent (one RDT per batch of up to 50 orders, then one
getOrderAddress each), held in memory while the order is checked and created at the supplier, and
dropped right after: it is never written to the mip database, a log line or XCom (docs/fulfilment.md,
"Personal data"). The supplier keeps its own copy, as it must to ship.
"""

from __future__ import annotations

from typing import Any

RDT_BATCH = 50  # Amazon's maximum of restricted resources per token


def address_path(order_id: str) -> str:
    return f"/orders/v0/orders/{order_id}/address"


def fetch_addresses(gateway: Any, country: str, order_ids: list[str]) -> dict[str, dict[str, Any] | None]:
    """order id -> Amazon's ShippingAddress, or None when Amazon gives none (the order is no longer shippable)."""
    from mip.amazon import apis

    tokens = apis.tokens(gateway, country)
    orders = apis.orders(gateway, country)
    found: dict[str, dict[str, Any] | None] = {}
    for start in range(0, len(order_ids), RDT_BATCH):
        chunk = order_ids[start : start + RDT_BATCH]
        resources = [{"method": "GET", "path": address_path(order_id)} for order_id in chunk]
        answer = gateway.call(
            "createRestrictedDataToken",
            lambda r=resources: tokens.create_restricted_data_token(restrictedResources=r),
            country=country,
        )
        orders.restricted_data_token = answer.payload["restrictedDataToken"]
        try:
            for order_id in chunk:
                payload = gateway.call(
                    "getOrderAddress", lambda o=order_id: orders.get_order_address(o), country=country
                ).payload
                found[order_id] = payload.get("ShippingAddress")
        finally:
            orders.restricted_data_token = None
    return found


def supplier_address(address: dict[str, Any]) -> dict[str, str] | None:
    """BigBuy's shippingAddress from Amazon's; None when Amazon's lacks the name or the street."""
    name = (address.get("Name") or "").strip()
    street = " ".join(
        part.strip() for part in (address.get(f"AddressLine{n}") or "" for n in (1, 2, 3)) if part.strip()
    )
    if not name or not street or not all(address.get(f) for f in ("City", "PostalCode", "CountryCode")):
        return None
    first, _, last = name.partition(" ")
    return {
        "firstName": first,
        "lastName": last or first,
        "country": address["CountryCode"],
        "postcode": address["PostalCode"],
        "town": address["City"],
        "address": street,
        "phone": address.get("Phone") or "",
        "email": "",
        "comment": "",
    }
