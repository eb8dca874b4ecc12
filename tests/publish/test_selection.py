"""Selection rules, category subtree matching, product types and language choice (pure logic)."""

from __future__ import annotations

import pandas as pd
import pytest

from mip.listings.product_types import product_types
from mip.listings.rules import category_matches, in_categories, normalise_categories
from mip.listings.selection import selection_mask
from mip.settings.product_types import DEFAULT_PRODUCT_TYPES, ProductTypeRule
from mip.settings.selection import SelectionSettings
from tests.publish.conftest import channel_with


def test_a_category_includes_its_subcategories_and_nothing_else():
    assert category_matches("Home > Kitchen > Knives", "Home > Kitchen")
    assert category_matches("Home > Kitchen", "Home > Kitchen")
    assert category_matches(" home>KITCHEN >  knives ", "Home > Kitchen")  # spaces and case do not matter
    assert not category_matches("Home > Kitchenware", "Home > Kitchen")  # a prefix of the name is not a parent
    assert not category_matches("Home", "Home > Kitchen")
    assert not category_matches(None, "Home")


def test_vectorised_category_matching_agrees_with_the_scalar_form():
    paths = pd.Series(["Home > Kitchen > Knives", "Home > Kitchenware", "Home", None, "Toys", "home>kitchen"])
    column = normalise_categories(paths)
    mask = in_categories(column, ["Home > Kitchen", "Toys"])
    assert mask.tolist() == [category_matches(p, "Home > Kitchen") or category_matches(p, "Toys") for p in paths]
    assert mask.tolist() == [True, False, False, False, True, True]
    assert not in_categories(column, []).any()


def catalog() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("K1", "Lumera", "Home & Kitchen > Kitchen > Knives", 10, 12.0, 30.0),
            ("K2", "Ferrum", "Home & Kitchen > Kitchen > Cookware > Saucepans", 0, 20.0, 45.0),
            ("L1", "Lumera", "Home & Kitchen > Home Decor > Lamps", 3, 400.0, None),
            ("E1", "SoundWave", "Electronics > Audio > Headphones", 50, 2.0, 9.99),
            ("G1", "Caffè Aurora", "Grocery > Coffee & Tea", 8, 7.0, 15.0),
        ],
        columns=["reference", "brand", "category_path", "stock", "cost_price", "retail_price"],
    )


def selected(**settings) -> list[str]:
    frame = catalog()
    return frame.loc[selection_mask(frame, SelectionSettings.model_validate(settings)), "reference"].tolist()


def test_without_rules_the_whole_catalog_is_selected():
    assert selected() == ["K1", "K2", "L1", "E1", "G1"]


def test_include_and_exclude_by_category_brand_and_reference():
    assert selected(include_categories=["Home & Kitchen > Kitchen"]) == ["K1", "K2"]
    assert selected(
        include_categories=["Home & Kitchen"], exclude_categories=["Home & Kitchen > Kitchen > Cookware"]
    ) == ["K1", "L1"]
    assert selected(include_brands=[" lumera "]) == ["K1", "L1"]  # brands ignore case and spaces
    assert selected(include_categories=["Home & Kitchen"], include_brands=["Ferrum"]) == ["K2"]  # both must hold
    assert selected(exclude_brands=["SOUNDWAVE"]) == ["K1", "K2", "L1", "G1"]
    # a listed reference is selected outside the included categories; an exclusion beats it
    assert selected(include_categories=["Grocery"], include_references=["E1"]) == ["E1", "G1"]
    assert selected(include_references=["E1"], exclude_references=["E1"]) == []
    assert selected(exclude_references=["K1", "G1"]) == ["K2", "L1", "E1"]
    assert selected(include_references=["L1", "G1"]) == ["L1", "G1"]  # only these


def test_minimum_stock_and_price_range_on_cost_or_rrp():
    assert selected(min_stock=5) == ["K1", "E1", "G1"]
    assert selected(price_range={"basis": "cost", "min": 7, "max": 20}) == ["K1", "G1"]  # 7 <= cost < 20
    assert selected(price_range={"basis": "rrp", "min": 10}) == ["K1", "K2", "G1"]  # no RRP: outside
    assert selected(include_references=["L1"], include_categories=["Grocery"], min_stock=5) == ["G1"]


def test_product_types_first_match_and_default():
    paths = pd.Series(
        [
            "Home & Kitchen > Kitchen > Knives",
            "Home & Kitchen > Bedding",
            "Books > Children's Books",
            "Fishing > Rods",
            None,
        ]
    )
    assert product_types(paths, DEFAULT_PRODUCT_TYPES).tolist() == [
        "KITCHEN",
        "HOME",
        "ABIS_BOOK",
        "PRODUCT",
        "PRODUCT",
    ]
    custom = (ProductTypeRule(categories=("Fishing",), product_type="FISHING_ROD"),)
    assert product_types(paths, custom, "HOME").tolist() == ["HOME", "HOME", "HOME", "FISHING_ROD", "HOME"]


def test_languages_default_to_the_marketplace_then_fallbacks_then_the_catalog_language():
    it = channel_with("pricing: {default: {strategy: margin_on_cost, percent: 30}}")
    assert it.publish.languages(it.marketplace.language_tag, "en") == ("it", "en")
    assert it.publish.languages(it.marketplace.language_tag, "it") == ("it",)
    de = channel_with(
        "fallback_languages: [en, de]\npricing: {default: {strategy: margin_on_cost, percent: 30}}",
        country="DE",
        channel_id="de",
    )
    assert de.publish.languages(de.marketplace.language_tag, "it") == ("de", "en", "it")


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("selection: {include_categories: ['Home >']}", "category 'Home >' is not a category path"),
        ("selection: {price_range: {basis: cost}}", "a price range needs min, max or both"),
        ("selection: {price_range: {basis: msrp, min: 1}}", "selection.price_range.basis"),
        ("selection: {min_stock: -1}", "selection.min_stock"),
        ("selection: {include_brand: [x]}", "selection.include_brand: Extra inputs are not permitted"),
    ],
)
def test_selection_errors_name_the_entry(block, message):
    from mip.config import TopologyError

    with pytest.raises(TopologyError) as caught:
        channel_with(block + "\npricing: {default: {strategy: margin_on_cost, percent: 30}}")
    assert message in str(caught.value) and "Fix: " in str(caught.value)


def test_shipped_demo_channels_have_publish_settings():
    from mip.config import DEFAULT_TOPOLOGY, load_topology

    demo = load_topology(DEFAULT_TOPOLOGY)
    assert demo.channel("it").publish is not None and demo.channel("de").publish is not None
    assert demo.channel("fr").publish is None and demo.channel("es").publish is None
