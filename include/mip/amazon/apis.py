"""The python-amazon-sp-api clients MIP uses, one function per API: the only place outside the
gateway that names an ``sp_api`` class (import-linter holds every other package to it).

    orders = apis.orders(gateway, "IT")
    page = gateway.call("getOrders", lambda: orders.get_orders(...), country="IT")

Each client is built and cached by ``SpApiGateway.client`` (credentials, marketplace, endpoint,
timeout, API version); ``sp_api`` is imported here only when a client is asked for, so importing
this module stays cheap at DAG parse time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mip.amazon.gateway import SpApiGateway


def orders(gateway: SpApiGateway, country: str) -> Any:
    """Orders API v0 (getOrders, getOrderItems)."""
    from sp_api.api import Orders

    return gateway.client(Orders, country)


def reports(gateway: SpApiGateway, country: str) -> Any:
    """Reports API 2021-06-30."""
    from sp_api.api import Reports

    return gateway.client(Reports, country)


def feeds(gateway: SpApiGateway, country: str) -> Any:
    """Feeds API 2021-06-30."""
    from sp_api.api import Feeds

    return gateway.client(Feeds, country)


def listings_items(gateway: SpApiGateway, country: str) -> Any:
    """Listings Items API 2021-08-01."""
    from sp_api.api import ListingsItems

    return gateway.client(ListingsItems, country)


def sellers(gateway: SpApiGateway, country: str) -> Any:
    """Sellers API v1 (getMarketplaceParticipations)."""
    from sp_api.api import Sellers

    return gateway.client(Sellers, country)


def tokens(gateway: SpApiGateway, country: str) -> Any:
    """Tokens API 2021-03-01 (createRestrictedDataToken)."""
    from sp_api.api import Tokens

    return gateway.client(Tokens, country)


def notifications(gateway: SpApiGateway, country: str) -> Any:
    """Notifications API v1 (destinations, subscriptions)."""
    from sp_api.api import Notifications

    return gateway.client(Notifications, country)


@dataclass(frozen=True)
class _NotFound:
    """getListingsItem answered 404; its headers still feed the rate budget (x-amzn-RateLimit-Limit)."""

    headers: Any


def listing_absent(gateway: SpApiGateway, country: str, seller_id: str, sku: str, marketplace_id: str) -> bool:
    """True when getListingsItem answers 404 for ``sku`` (the answer a deletion hopes for, not an error)."""
    from sp_api.base.exceptions import SellingApiNotFoundException

    client = listings_items(gateway, country)

    def request() -> Any:
        try:
            return client.get_listings_item(
                sellerId=seller_id, sku=sku, marketplaceIds=[marketplace_id], includedData=["summaries"]
            )
        except SellingApiNotFoundException as exc:
            return _NotFound(getattr(exc, "headers", None))

    return isinstance(gateway.call("getListingsItem", request, country=country), _NotFound)
