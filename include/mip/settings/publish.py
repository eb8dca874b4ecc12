"""A main channel's publish settings: the ``publish:`` block of a channel in ``channels.yaml``.

Only main channels publish; a main channel without ``publish:`` is not published to (the
``mip_publish__<channel>`` run skips its steps and says so). See ``mip.listings.selection``,
``mip.listings.pricing`` and ``mip.listings.product_types`` for the meaning of each part.
"""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import Field, field_validator

from mip.settings.base import SettingsModel, violation
from mip.settings.pricing import PricingSettings
from mip.settings.product_types import DEFAULT_PRODUCT_TYPES, GENERIC_PRODUCT_TYPE, ProductTypeRule, check_product_type
from mip.settings.selection import SelectionSettings

LANGUAGE_PATTERN = re.compile(r"^[a-z]{2}$")


def _check_language(value: str) -> str:
    if not LANGUAGE_PATTERN.match(value):
        raise violation(
            f"language {value!r} is not a catalog language key",
            "use the two-letter key of the supplier's names and descriptions, e.g. it, de, fr, es, en",
        )
    return value


class GateSettings(SettingsModel):
    """Thresholds of the publishing gates; rows failing a gate are kept in mip.rejected_rows."""

    # A gate fails the run when more than this share of its rows fails an expectation.
    max_rejected_percent: Decimal = Field(default=Decimal(5), ge=0, le=100)
    # Price gate: a new price differing from the last accepted one by more than this is rejected.
    max_price_change_percent: Decimal = Field(default=Decimal(50), gt=0)
    # Plan: deleting more than this share of the channel's MIP listings in one run fails the run
    # (an empty or truncated catalog must not wipe the shop) unless the run's Param allows it.
    max_delete_percent: Decimal = Field(default=Decimal(25), ge=0, le=100)
    # Acceptance: the run fails when Amazon accepts less than this share of the messages sent
    # (the failure names the top issue codes).
    min_acceptance_percent: Decimal = Field(default=Decimal(90), ge=0, le=100)


class PublishSettings(SettingsModel):
    selection: SelectionSettings = SelectionSettings()
    pricing: PricingSettings
    gates: GateSettings = GateSettings()
    product_types: tuple[ProductTypeRule, ...] = DEFAULT_PRODUCT_TYPES
    default_product_type: str = GENERIC_PRODUCT_TYPE
    # Catalog language of titles and descriptions; default: the marketplace's (it for IT).
    language: str | None = None
    # Used, in order, for a product without a title in ``language``; the catalog language (``catalog.language``
    # of the topology) always comes last, so every product has a title.
    fallback_languages: tuple[str, ...] = ()
    # Units kept back from the supplier's stock (quantity = max(stock - buffer, 0)).
    stock_buffer: int = Field(default=0, ge=0)
    # Days the supplier needs before shipping (fulfillment_availability.lead_time_to_ship_max_days).
    handling_days: int | None = Field(default=None, ge=1, le=30)
    # Stage rows (stage_offer/price/plan) of older runs are deleted after this many days.
    stage_retention_days: int = Field(default=7, ge=1)

    _type_name = field_validator("default_product_type")(check_product_type)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return None if value is None else _check_language(value)

    @field_validator("fallback_languages")
    @classmethod
    def _fallbacks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_language(v) for v in value)

    def languages(self, marketplace_language_tag: str, catalog_language: str) -> tuple[str, ...]:
        """Catalog languages to try, in order: ``language`` (or the marketplace's), then the fallbacks, then
        the catalog's own language (``catalog.language``: every product has a name in it)."""
        first = self.language or marketplace_language_tag.split("_")[0]
        return tuple(dict.fromkeys((first, *self.fallback_languages, catalog_language)))
