"""Pricing strategies with worked examples, rounding, the floor, first-match rules, VAT and fees.

Worked example (IT: VAT 22%, referral fee 15% of the VAT-inclusive price): the seller keeps
1/1.22 - 0.15 = 0.669672 of every euro a buyer pays. Cost 10.00 with margin_on_cost 30% wants
13.00 kept: 13.00 / 0.669672 = 19.4125, rounded up to the .99 ending = 19.99 (33.87% margin on cost).
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from mip.listings.pricing import PricingError, price_offers, round_up
from mip.marketplaces import marketplace_for
from mip.settings.pricing import PricingSettings, Rounding
from tests.publish.conftest import channel_with

IT = marketplace_for("IT")


def settings(**values) -> PricingSettings:
    values.setdefault("default", {"strategy": "margin_on_cost", "percent": 30})
    return PricingSettings.model_validate(values)


def offers(*rows: dict) -> pd.DataFrame:
    base = {
        "category_path": "Home & Kitchen > Kitchen > Knives",
        "retail_price": 30.0,
        "vat_class": "standard",
        "last_price": None,
    }
    frame = pd.DataFrame([{**base, **row} for row in rows])
    frame["sku"] = "MIP-" + frame["reference"]
    frame["last_price"] = frame["last_price"].astype(float)
    return frame


def one(frame: pd.DataFrame, reference: str) -> dict:
    return frame.set_index("reference").loc[reference].to_dict()


@pytest.mark.parametrize(
    ("strategy", "parameter", "target_net", "strategy_price", "price", "margin"),
    [
        ({"strategy": "margin_on_cost", "percent": 30}, 30, 13.0, 19.4125, 19.99, 33.867),
        ({"strategy": "profit_on_price", "percent": 25}, 25, 13.3333, 19.9102, 19.99, 33.867),
        ({"strategy": "fixed_markup", "amount": 4}, 4, 14.0, 20.9058, 20.99, 40.564),
    ],
)
def test_worked_examples_of_each_strategy(strategy, parameter, target_net, strategy_price, price, margin):
    result = one(
        price_offers(
            offers({"reference": "A", "cost_price": 10.0}), settings(default=strategy, rounding={"ending": "0.99"}), IT
        ),
        "A",
    )
    assert result["rule_id"] == "default" and result["strategy"] == strategy["strategy"]
    assert result["parameter"] == parameter
    assert result["target_net"] == pytest.approx(target_net, abs=1e-4)
    assert result["vat_percent"] == 22 and result["referral_fee_percent"] == 15
    assert result["strategy_price"] == pytest.approx(strategy_price, abs=1e-4)
    assert result["price"] == price and result["currency"] == "EUR"
    assert result["margin_percent"] == pytest.approx(margin, abs=1e-3)
    assert not result["floor_applied"] and result["rounding"] == "up to ending 0.99"


def test_minimum_margin_floor_lifts_a_price_that_would_earn_too_little():
    # fixed markup 1.00 on a 100.00 cost keeps 101.00 -> 150.82; the 10% floor keeps 110.00 -> 164.26
    frame = price_offers(
        offers({"reference": "A", "cost_price": 100.0}, {"reference": "B", "cost_price": 1.0}),
        settings(default={"strategy": "fixed_markup", "amount": 1}, min_margin_percent=10, rounding={"ending": "0.99"}),
        IT,
    )
    a, b = one(frame, "A"), one(frame, "B")
    assert a["strategy_price"] == pytest.approx(150.8201, abs=1e-4)
    assert a["floor_price"] == pytest.approx(164.2595, abs=1e-4)
    assert a["floor_applied"] and a["price"] == 164.99 and a["margin_percent"] >= 10
    # on a 1.00 cost the same markup is a 100% margin: the floor does not apply
    assert not b["floor_applied"] and b["price"] >= b["floor_price"]


def test_rounding_is_always_up_so_it_never_breaks_the_floor():
    ending, step, cent = Rounding(ending=Decimal("0.99")), Rounding(step=Decimal("0.05")), Rounding()
    assert [round_up(p, ending) for p in (12.30, 12.99, 13.00, 0.5, 12.991)] == [12.99, 12.99, 13.99, 0.99, 13.99]
    assert [round_up(p, Rounding(ending=Decimal("0.95"))) for p in (18.83, 18.96)] == [18.95, 19.95]
    assert [round_up(p, step) for p in (12.31, 12.35, 12.351, 0.01)] == [12.35, 12.35, 12.40, 0.05]
    assert [round_up(p, cent) for p in (12.301, 12.30, 19.4124847)] == [12.31, 12.30, 19.42]
    # floating noise never pushes a price to the next step: 0.1 + 0.2 is 0.30000000000000004
    assert round_up(0.1 + 0.2, cent) == 0.30


def test_first_matching_rule_wins_then_the_default():
    pricing = settings(
        rules=[
            {"id": "hero", "when": {"references": ["H"]}, "strategy": "margin_on_cost", "percent": 50},
            {
                "id": "knives",
                "when": {"categories": ["Home & Kitchen > Kitchen"]},
                "strategy": "margin_on_cost",
                "percent": 40,
            },
            {"id": "cheap", "when": {"price": {"basis": "cost", "max": 5}}, "strategy": "fixed_markup", "amount": 3},
            {
                "id": "pricey-rrp",
                "when": {"price": {"basis": "rrp", "min": 100}},
                "strategy": "profit_on_price",
                "percent": 20,
            },
        ]
    )
    frame = price_offers(
        offers(
            {"reference": "H", "cost_price": 4.0},  # hero, although also a knife and cheap
            {"reference": "K", "cost_price": 4.0},  # knives (subcategory), although cheap
            {"reference": "C", "cost_price": 4.99, "category_path": "Toys & Games"},  # cost < 5
            {"reference": "E", "cost_price": 5.0, "category_path": "Toys & Games"},  # 5 is not < 5: default
            {"reference": "R", "cost_price": 60.0, "category_path": "Toys & Games", "retail_price": 100.0},
            {"reference": "N", "cost_price": 60.0, "category_path": "Toys & Games", "retail_price": None},
            {"reference": "W", "cost_price": 6.0, "category_path": "Home & Kitchenware"},  # not a subcategory
        ),
        pricing,
        IT,
    )
    rules = frame.set_index("reference")["rule_id"].to_dict()
    assert rules == {
        "H": "hero",
        "K": "knives",
        "C": "cheap",
        "E": "default",
        "R": "pricey-rrp",
        "N": "default",
        "W": "default",
    }
    assert one(frame, "H")["parameter"] == 50 and one(frame, "C")["strategy"] == "fixed_markup"


def test_vat_classes_category_fees_and_overrides():
    pricing = settings(
        vat_class_percent={"reduced": 10},
        category_referral_fees=[{"categories": ["Electronics"], "percent": 8}],
    )
    frame = price_offers(
        offers(
            {"reference": "R", "cost_price": 10.0, "vat_class": "Reduced"},
            {"reference": "E", "cost_price": 10.0, "category_path": "Electronics > Audio"},
            {"reference": "U", "cost_price": 10.0, "vat_class": "unknown-class"},
        ),
        pricing,
        IT,
    )
    assert one(frame, "R")["vat_percent"] == 10 and one(frame, "R")["price"] == pytest.approx(17.13)
    assert one(frame, "E")["referral_fee_percent"] == 8 and one(frame, "E")["price"] == pytest.approx(17.58)
    assert one(frame, "U")["vat_percent"] == 22  # an unmapped class pays the standard rate
    overridden = price_offers(offers({"reference": "A", "cost_price": 10.0}), settings(vat_percent=19), IT)
    assert one(overridden, "A")["vat_percent"] == 19


def test_price_change_against_the_last_accepted_price_is_recorded():
    frame = price_offers(
        offers({"reference": "A", "cost_price": 10.0, "last_price": 10.0}, {"reference": "B", "cost_price": 10.0}),
        settings(),
        IT,
    )
    assert one(frame, "A")["last_price"] == 10.0
    assert one(frame, "A")["price_change_percent"] == pytest.approx((19.42 - 10) / 10 * 100, abs=1e-3)
    assert pd.isna(one(frame, "B")["price_change_percent"])  # never published: nothing to compare


def test_other_currencies_need_an_exchange_rate():
    gb = marketplace_for("GB")
    with pytest.raises(PricingError, match=r"sells in GBP.*set publish.pricing.exchange_rate"):
        price_offers(offers({"reference": "A", "cost_price": 10.0}), settings(), gb)
    frame = price_offers(offers({"reference": "A", "cost_price": 10.0}), settings(exchange_rate="0.85"), gb)
    row = one(frame, "A")
    assert row["currency"] == "GBP" and row["exchange_rate"] == 0.85 and row["cost_local"] == 8.5
    with pytest.raises(PricingError, match="remove exchange_rate"):
        price_offers(offers({"reference": "A", "cost_price": 10.0}), settings(exchange_rate="0.85"), IT)


def test_a_cost_that_is_not_positive_cannot_be_priced():
    with pytest.raises(PricingError, match=r"cost_price must be positive.*MIP-Z"):
        price_offers(offers({"reference": "Z", "cost_price": 0.0}), settings(), IT)


def test_vectorised_over_many_rows_with_lineage_for_every_price():
    frame = offers(*({"reference": f"P{i}", "cost_price": 1 + i % 400} for i in range(20_000)))
    priced = price_offers(frame, settings(rounding={"ending": "0.99"}, min_margin_percent=5), IT)
    assert len(priced) == 20_000 and priced["price"].notna().all()
    assert (priced["price"] >= priced["floor_price"]).all()
    assert ((priced["price"] * 100).round() % 100 == 99).all()


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "pricing: {default: {strategy: fixed_markup, percent: 3}}",
            "pricing.default: strategy fixed_markup takes amount (and no percent). Fix: write e.g.",
        ),
        ("pricing: {default: {strategy: profit_on_price, percent: 100}}", "must be below 100"),
        (
            "pricing:\n  default: {strategy: margin_on_cost, percent: 3}\n  rules:\n"
            "    - {id: a, when: {}, strategy: margin_on_cost, percent: 1}",
            "pricing.rules[0] (id 'a').when: a rule needs at least one condition",
        ),
        (
            "pricing: {default: {strategy: margin_on_cost, percent: 3}, rounding: {ending: 0.99, step: 0.05}}",
            "rounding takes ending or step, not both",
        ),
        (
            "pricing: {default: {strategy: margin_on_cost, percent: 3}, referral_fee_percent: 60}",
            "referral_fee_percent",
        ),
        (
            "pricing: {default: {strategy: margin_on_cost, percent: 3}, roundng: {ending: 0.99}}",
            "pricing.roundng: Extra inputs are not permitted",
        ),
    ],
)
def test_settings_errors_name_the_entry_and_the_fix(block, message):
    from mip.config import TopologyError

    with pytest.raises(TopologyError) as caught:
        channel_with(block)
    text = str(caught.value)
    assert message in text and "channels[0] (id 'it').publish." in text and "Fix: " in text
