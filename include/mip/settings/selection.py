"""Which supplier products a main channel publishes: ``publish.selection`` (applied by
``mip.listings.selection``, which states the rule)."""

from __future__ import annotations

from pydantic import Field

from mip.settings.base import Categories, PriceRange, SettingsModel


class SelectionSettings(SettingsModel):
    include_categories: Categories = ()
    exclude_categories: Categories = ()
    include_brands: tuple[str, ...] = ()
    exclude_brands: tuple[str, ...] = ()
    include_references: tuple[str, ...] = ()
    exclude_references: tuple[str, ...] = ()
    min_stock: int = Field(default=0, ge=0)
    price_range: PriceRange | None = None
