"""Supplier category -> Amazon product type (``publish.product_types``, first match wins).

Amazon validates a listing against the requirements of its product type. MIP maps the supplier's
category tree onto a small set of product types; a category includes its subcategories, so order
the list from the most specific category to the least. Products matching no entry get
``publish.default_product_type`` (``PRODUCT``, Amazon's generic type).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mip.listings.rules import in_categories, normalise_categories
from mip.settings.product_types import GENERIC_PRODUCT_TYPE, ProductTypeRule

if TYPE_CHECKING:
    import pandas as pd


def product_types(
    category_paths: pd.Series, rules: tuple[ProductTypeRule, ...], default: str = GENERIC_PRODUCT_TYPE
) -> pd.Series:
    """The product type of each row (vectorised over the rules, not the rows)."""
    import pandas as pd

    categories = normalise_categories(category_paths)
    result = pd.Series(default, index=category_paths.index, dtype=object)
    open_rows = pd.Series(True, index=category_paths.index)
    for rule in rules:
        hit = in_categories(categories, rule.categories) & open_rows
        result[hit] = rule.product_type
        open_rows &= ~hit
    return result
