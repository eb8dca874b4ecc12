"""The sandbox's seller-fulfilment operations against Amazon's models, with the real python-amazon-sp-api
client: Tokens createRestrictedDataToken, getOrderAddress (only under an RDT), confirmShipment (204, once),
the admin cancellation and the shipments truth."""

from __future__ import annotations

import pytest

from sandbox.spapi import contract
from tests.sandbox.conftest import DEMO, IT


@pytest.fixture(scope="module")
def fulfilling_sandbox(tmp_path_factory):
    from sandbox.testing import run_sandbox

    with run_sandbox(
        tmp_path_factory.mktemp("spapi-fulfil"),
        time_scale=600.0,
        extra_args=["--validate-responses", "--ship-on-confirmation"],
    ) as running:
        yield running
        violations = running.admin("GET", "contract-violations")["violations"]
    assert not violations, f"responses that break Amazon's models: {violations[:5]}"


def _unshipped(sandbox, count: int = 3) -> list[str]:
    ids = sandbox.admin(
        "POST", "orders/generate", json={"seller_id": DEMO, "marketplace_id": IT, "count": count, "skus": ["F-1"]}
    )["amazon_order_ids"]
    truth = {o["AmazonOrderId"]: o for o in sandbox.admin("GET", "orders", params={"seller_id": DEMO})}
    return [i for i in ids if truth[i]["OrderStatus"] == "Unshipped"]


def test_the_tokens_model_is_served_with_its_usage_plan():
    op = contract.operation("createRestrictedDataToken")
    assert (op.method, op.path, op.rate, op.burst) == ("POST", "/tokens/2021-03-01/restrictedDataToken", 1.0, 10)


def test_address_only_under_an_rdt_and_shipment_confirmed_once(fulfilling_sandbox):
    from sp_api.api import Orders, Tokens
    from sp_api.base import Marketplaces
    from sp_api.base.exceptions import SellingApiBadRequestException, SellingApiForbiddenException

    sandbox = fulfilling_sandbox
    order_id = _unshipped(sandbox)[0]
    orders = sandbox.client(Orders, "demo", Marketplaces.IT)
    with pytest.raises(SellingApiForbiddenException):
        orders.get_order_address(order_id)
    tokens = sandbox.client(Tokens, "demo", Marketplaces.IT)
    path = f"/orders/v0/orders/{order_id}/address"
    rdt = tokens.create_restricted_data_token(restrictedResources=[{"method": "GET", "path": path}]).payload
    assert rdt["expiresIn"] == 3600
    orders.restricted_data_token = rdt["restrictedDataToken"]
    address = orders.get_order_address(order_id).payload["ShippingAddress"]
    orders.restricted_data_token = None
    assert address["Name"] and address["AddressLine1"] and address["CountryCode"] == "IT"
    items = orders.get_order_items(order_id).payload["OrderItems"]
    package = {
        "packageReferenceId": "1",
        "carrierCode": "GLS",
        "trackingNumber": "T-1",
        "shipDate": "2026-01-01T10:00:00Z",
        "orderItems": [{"orderItemId": i["OrderItemId"], "quantity": i["QuantityOrdered"]} for i in items],
    }
    orders.confirm_shipment(order_id, marketplaceId=IT, packageDetail=package)
    assert orders.get_order(order_id).payload["OrderStatus"] == "Shipped"
    with pytest.raises(SellingApiBadRequestException):
        orders.confirm_shipment(order_id, marketplaceId=IT, packageDetail=package)
    shipments = [s for s in sandbox.admin("GET", "/_sandbox/shipments") if s["amazonOrderId"] == order_id]
    assert [(s["carrierCode"], s["trackingNumber"]) for s in shipments] == [("GLS", "T-1")]


def test_a_canceled_order_cannot_be_confirmed(fulfilling_sandbox):
    from sp_api.api import Orders
    from sp_api.base import Marketplaces
    from sp_api.base.exceptions import SellingApiBadRequestException

    sandbox = fulfilling_sandbox
    order_id = _unshipped(sandbox)[0]
    assert sandbox.admin("POST", f"/_sandbox/orders/{order_id}/cancel")["status"] == "Canceled"
    orders = sandbox.client(Orders, "demo", Marketplaces.IT)
    items = orders.get_order_items(order_id).payload["OrderItems"]
    package = {
        "packageReferenceId": "1",
        "carrierCode": "GLS",
        "trackingNumber": "T-2",
        "shipDate": "2026-01-01T10:00:00Z",
        "orderItems": [{"orderItemId": items[0]["OrderItemId"], "quantity": 1}],
    }
    with pytest.raises(SellingApiBadRequestException):
        orders.confirm_shipment(order_id, marketplaceId=IT, packageDetail=package)
