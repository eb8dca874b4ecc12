"""Which supplier products a main channel publishes (``publish.selection`` in the topology).

A product is selected when

1. it is *included*: it matches every include filter that is set (``include_categories``,
   ``include_brands``), or its reference is in ``include_references`` (with no include rule at
   all, the whole catalog is included; with only ``include_references``, just those products);
2. it is not *excluded*: not in ``exclude_categories`` (with their subcategories), not of an
   ``exclude_brands`` brand, not in ``exclude_references`` (exclusions beat inclusions);
3. it has at least ``min_stock`` units, and its cost or RRP is inside ``price_range``.

A product that stops being selected (or leaves the catalog) is deleted from the channel by the
next run's plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mip.listings.rules import in_categories, in_names, normalise_categories, normalise_names
from mip.settings.selection import SelectionSettings

if TYPE_CHECKING:
    import pandas as pd

# Columns selection_mask reads (from mip.supplier_products).
SELECTION_COLUMNS = ("reference", "brand", "category_path", "stock", "cost_price", "retail_price")


def selection_mask(products: pd.DataFrame, settings: SelectionSettings) -> pd.Series:
    """Boolean Series: which rows of ``products`` (``SELECTION_COLUMNS``) the channel publishes."""
    import pandas as pd

    everything = pd.Series(True, index=products.index)
    categories = normalise_categories(products["category_path"])
    brands = normalise_names(products["brand"])
    references = products["reference"].astype(str)

    by_filters = settings.include_categories or settings.include_brands
    included = everything.copy() if by_filters or not settings.include_references else ~everything
    if settings.include_categories:
        included &= in_categories(categories, settings.include_categories)
    if settings.include_brands:
        included &= in_names(brands, settings.include_brands)
    if settings.include_references:
        included |= references.isin(settings.include_references)

    excluded = ~everything
    if settings.exclude_categories:
        excluded |= in_categories(categories, settings.exclude_categories)
    if settings.exclude_brands:
        excluded |= in_names(brands, settings.exclude_brands)
    if settings.exclude_references:
        excluded |= references.isin(settings.exclude_references)

    selected = included & ~excluded & (products["stock"].fillna(0) >= settings.min_stock)
    if settings.price_range is not None:
        selected &= settings.price_range.mask(products["cost_price"], products["retail_price"])
    return selected
