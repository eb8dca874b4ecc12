"""Pure pieces of the sandbox: identifiers, patches, currencies, usage plans, parameters."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from starlette.datastructures import QueryParams

from sandbox.spapi import contract, marketplaces
from sandbox.spapi.errors import ApiError
from sandbox.spapi.listings import gtin
from sandbox.spapi.listings.attributes import AttributeError_, apply_patches
from sandbox.spapi.params import parse_query
from sandbox.spapi.ratelimit import RateLimiter, header_value
from tests.sandbox.conftest import ean13


def test_gtin_rules():
    assert gtin.problem("ean", "4006381333931") is None
    assert "check digit" in gtin.problem("ean", "4006381333932")
    assert "13" in gtin.problem("ean", "400638133393")  # 12 digits is not an EAN-13
    assert gtin.problem("upc", "036000291452") is None
    assert "digits only" in gtin.problem("ean", "40063813339AB")
    assert "not a supported" in gtin.problem("sku", "1")
    assert gtin.problem("isbn", "0306406152") is None
    # a UPC and its EAN-13 form are the same catalog product
    assert gtin.catalog_key("upc", "036000291452") == gtin.catalog_key("ean", "0036000291452")
    assert gtin.problem("ean", ean13(800123456789)) is None


def test_patches_add_replace_merge_delete():
    base = {"item_name": [{"value": "a", "marketplace_id": "M1"}, {"value": "b", "marketplace_id": "M2"}]}
    replaced = apply_patches(base, [{"op": "replace", "path": "/attributes/item_name", "value": [{"value": "c"}]}])
    assert replaced["item_name"] == [{"value": "c"}]
    merged = apply_patches(
        base, [{"op": "merge", "path": "/attributes/item_name", "value": [{"value": "z", "marketplace_id": "M2"}]}]
    )
    assert merged["item_name"] == [{"value": "a", "marketplace_id": "M1"}, {"value": "z", "marketplace_id": "M2"}]
    deleted = apply_patches(
        base, [{"op": "delete", "path": "/attributes/item_name", "value": [{"marketplace_id": "M1"}]}]
    )
    assert deleted["item_name"] == [{"value": "b", "marketplace_id": "M2"}]
    assert "item_name" not in apply_patches(base, [{"op": "delete", "path": "/attributes/item_name"}])
    assert base["item_name"][0]["value"] == "a"  # the input is not modified
    with pytest.raises(AttributeError_, match="top-level"):
        apply_patches(base, [{"op": "replace", "path": "/attributes/item_name/0/value", "value": ["x"]}])


def test_currency_conversion_through_eur():
    assert marketplaces.convert(Decimal("10.00"), "EUR", "EUR") == Decimal("10.00")
    assert marketplaces.convert(Decimal("10.00"), "EUR", "GBP") == Decimal("8.50")
    assert marketplaces.convert(Decimal("10.00"), "EUR", "SEK") == Decimal("115.00")
    assert marketplaces.convert(Decimal("8.50"), "GBP", "PLN") == Decimal("43.00")


def test_usage_plans_come_from_the_models():
    plans = {op.operation_id: (op.rate, op.burst) for op in contract.operations()}
    assert plans["getOrders"] == (0.0167, 20)
    assert plans["getOrderItems"] == (0.5, 30)
    assert plans["putListingsItem"] == (5, 10)
    assert plans["createFeed"] == (0.0083, 15)
    assert plans["getReportDocument"] == (0.0167, 15)
    assert plans["getMarketplaceParticipations"] == (0.016, 15)


def test_token_bucket_burst_then_scaled_refill():
    limiter = RateLimiter(time_scale=100.0)
    assert [limiter.take("S", "op", 1.0, 2) for _ in range(3)] == [True, True, False]
    time.sleep(0.03)  # 1/s x 100 = one token per 10 ms
    assert limiter.take("S", "op", 1.0, 2)
    assert limiter.take("OTHER", "op", 1.0, 2)  # buckets are per seller
    assert header_value(0.0167 * 60) == "1.002"
    assert header_value(5.0) == "5"


def test_query_arrays_accept_csv_and_repeated_keys():
    op = contract.operation("getOrders")
    parsed = parse_query(op, QueryParams("MarketplaceIds=A,B&MarketplaceIds=C&MaxResultsPerPage=5&Ignored=1"))
    assert parsed == {"MarketplaceIds": ["A", "B", "C"], "MaxResultsPerPage": 5}
    with pytest.raises(ApiError, match="MarketplaceIds"):
        parse_query(op, QueryParams("CreatedAfter=2024-01-01"))
    with pytest.raises(ApiError, match="integer"):
        parse_query(op, QueryParams("MarketplaceIds=A&MaxResultsPerPage=x"))
    search = contract.operation("searchListingsItems")
    with pytest.raises(ApiError, match="maximum is 20"):
        parse_query(search, QueryParams("marketplaceIds=A&pageSize=21"))
    with pytest.raises(ApiError, match="allowed"):
        parse_query(search, QueryParams("marketplaceIds=A&includedData=summaries,bogus"))
