"""Supplier category -> Amazon product type (``publish.product_types``, first match wins).

Amazon validates a listing against the requirements of its product type. MIP maps the supplier's
category tree onto a small set of product types; a category includes its subcategories, so order
the list from the most specific category to the least. Products matching no entry get
``publish.default_product_type`` (``PRODUCT``, Amazon's generic type).
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from mip.settings.base import Categories, SettingsModel, violation

PRODUCT_TYPE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
GENERIC_PRODUCT_TYPE = "PRODUCT"


def check_product_type(value: str) -> str:
    if not PRODUCT_TYPE_PATTERN.match(value):
        raise violation(
            f"product type {value!r} is not an Amazon product type name",
            "use the upper-case name of Amazon's Product Type Definitions API, e.g. KITCHEN or HOME",
        )
    return value


class ProductTypeRule(SettingsModel):
    categories: Categories = Field(min_length=1)
    product_type: str

    _name = field_validator("product_type")(check_product_type)


DEFAULT_PRODUCT_TYPES: tuple[ProductTypeRule, ...] = tuple(
    ProductTypeRule(categories=(category,), product_type=product_type)
    for category, product_type in (
        ("Home & Kitchen > Kitchen", "KITCHEN"),
        ("Home > Kitchen", "KITCHEN"),
        ("Kitchen", "KITCHEN"),
        ("Home & Kitchen", "HOME"),
        ("Home", "HOME"),
        ("Electronics", "CONSUMER_ELECTRONICS"),
        ("Sports & Outdoors", "SPORTING_GOODS"),
        ("Sports", "SPORTING_GOODS"),
        ("Toys & Games", "TOY_FIGURE"),
        ("Toys", "TOY_FIGURE"),
        ("Beauty & Personal Care", "BEAUTY"),
        ("Beauty", "BEAUTY"),
        ("Health", "HEALTH_PERSONAL_CARE"),
        ("Pet Supplies", "PET_SUPPLIES"),
        ("Grocery", "GROCERY"),
        ("Books", "ABIS_BOOK"),
        ("Garden", "OUTDOOR_LIVING"),
        ("Office", "OFFICE_PRODUCTS"),
        ("Tools", "TOOLS"),
        ("Automotive", "AUTO_ACCESSORY"),
        ("Baby", "BABY_PRODUCT"),
        ("Fashion", "APPAREL"),
    )
)
