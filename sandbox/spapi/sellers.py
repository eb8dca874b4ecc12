"""Sellers API v1: getMarketplaceParticipations."""

from __future__ import annotations

from typing import Any

from sandbox.spapi import marketplaces
from sandbox.spapi.call import Call


def get_marketplace_participations(call: Call) -> tuple[int, Any]:
    account = call.state.db.one("SELECT store_name FROM accounts WHERE seller_id = ?", (call.seller_id,))
    rows = call.state.db.query(
        "SELECT marketplace_id, participating, suspended_listings FROM participations WHERE seller_id = ?",
        (call.seller_id,),
    )
    payload = []
    for row in sorted(rows, key=lambda r: marketplaces.BY_ID[r["marketplace_id"]].country):
        market = marketplaces.BY_ID[row["marketplace_id"]]
        payload.append(
            {
                "marketplace": {
                    "id": market.marketplace_id,
                    "name": market.name,
                    "countryCode": market.country,
                    "defaultCurrencyCode": market.currency,
                    "defaultLanguageCode": market.language,
                    "domainName": market.domain_name,
                },
                "storeName": account["store_name"],
                "participation": {
                    "isParticipating": bool(row["participating"]),
                    "hasSuspendedListings": bool(row["suspended_listings"]),
                },
            }
        )
    return 200, {"payload": payload}


HANDLERS = {"getMarketplaceParticipations": get_marketplace_participations}
