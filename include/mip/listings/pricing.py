"""Pricing strategies of a main channel (``publish.pricing``), vectorised, with recorded lineage.

The model. ``P`` is the VAT-inclusive price sent to Amazon (``our_price``). Amazon keeps a referral
fee ``f`` (a percentage of ``P``) and the state keeps the VAT ``v`` (``P`` includes it), so the
seller keeps ``net = P / (1 + v) - f * P``. A strategy says how much the seller wants to keep:

=================  =========================  ==========================================
strategy           target net                 reading
=================  =========================  ==========================================
margin_on_cost     cost * (1 + p)             p = percent / 100, profit as a share of cost
profit_on_price    cost / (1 - p)             profit as a share of the net price
fixed_markup       cost + amount              amount in the marketplace currency
=================  =========================  ==========================================

and ``P = net / (1 / (1 + v) - f)``. The floor is the same formula with ``cost * (1 +
min_margin)``: no price gives less than the minimum margin on cost after fee and VAT. The higher of
the two is rounded *up* (to an ending such as .99, a step such as 0.05, or the next cent), so
rounding never breaks the floor.

Rules (``publish.pricing.rules``) match by category (with subcategories), product reference and/or
a price range on cost or RRP; all conditions of a rule must hold; the first matching rule wins,
``default`` prices the rest. The referral fee is ``referral_fee_percent`` unless a
``category_referral_fees`` entry matches first; VAT is the marketplace's standard rate
(``mip.marketplaces``) unless ``vat_percent`` overrides it, and ``vat_class_percent`` maps the
supplier's VAT classes (e.g. ``reduced``) to their rates.

Costs are in the catalog currency (EUR); ``exchange_rate`` (marketplace currency per EUR) is
required for marketplaces in another currency.

Every computed price keeps its inputs: cost, exchange rate, rule id, strategy, parameter, VAT, fee,
floor and whether it applied, rounding, the realised margin (the columns of ``mip.stage_price``).

The settings models are ``mip.settings.pricing``; numpy and pandas are imported inside the functions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from mip.listings.rules import CategoryColumn, in_categories, normalise_categories
from mip.settings.base import CATALOG_CURRENCY
from mip.settings.pricing import DEFAULT_RULE_ID, PriceRule, PricingSettings, Rounding, StrategySpec

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mip.marketplaces import Marketplace


# Columns price_offers reads, and the lineage columns it returns (mip.stage_price).
PRICING_INPUT_COLUMNS = ("sku", "reference", "category_path", "cost_price", "retail_price", "vat_class", "last_price")
PRICE_COLUMNS = (
    "sku",
    "reference",
    "cost_price",
    "exchange_rate",
    "cost_local",
    "rule_id",
    "strategy",
    "parameter",
    "target_net",
    "vat_percent",
    "referral_fee_percent",
    "strategy_price",
    "min_margin_percent",
    "floor_price",
    "floor_applied",
    "rounding",
    "price",
    "currency",
    "margin_percent",
    "last_price",
    "price_change_percent",
)


class PricingError(ValueError):
    """Prices cannot be computed with these settings; the message names the setting and the fix."""


def _round_up(prices: np.ndarray, rounding: Rounding) -> np.ndarray:
    """Smallest price >= ``prices`` with the configured ending/step (floating noise removed first)."""
    import numpy as np

    prices = np.round(prices, 6)
    if rounding.ending is not None:
        ending = float(rounding.ending)
        rounded = np.ceil(np.round(prices - ending, 6)) + ending
    elif rounding.step is not None:
        step = float(rounding.step)
        rounded = np.ceil(np.round(prices / step, 6)) * step
    else:
        rounded = np.ceil(np.round(prices * 100, 6)) / 100
    return np.round(rounded, 2)


def round_up(price: float, rounding: Rounding) -> float:
    """Scalar form of the rounding, for documentation and tests."""
    import numpy as np

    return float(_round_up(np.array([price], dtype=float), rounding)[0])


def exchange_rate(settings: PricingSettings, marketplace: Marketplace) -> Decimal:
    if marketplace.currency == CATALOG_CURRENCY:
        if settings.exchange_rate not in (None, Decimal(1)):
            raise PricingError(
                f"publish.pricing.exchange_rate is {settings.exchange_rate} but marketplace {marketplace.country} "
                f"sells in {CATALOG_CURRENCY}, the catalog's currency; remove exchange_rate"
            )
        return Decimal(1)
    if settings.exchange_rate is None:
        raise PricingError(
            f"marketplace {marketplace.country} sells in {marketplace.currency} but the catalog is in "
            f"{CATALOG_CURRENCY}; set publish.pricing.exchange_rate ({marketplace.currency} per {CATALOG_CURRENCY})"
        )
    return settings.exchange_rate


def _first_match(offers: pd.DataFrame, categories: CategoryColumn, rules: tuple[PriceRule, ...]) -> np.ndarray:
    """Index of the first matching rule per row; ``len(rules)`` = the default."""
    import numpy as np

    chosen = np.full(len(offers), len(rules), dtype=np.int64)
    open_rows = np.ones(len(offers), dtype=bool)
    for index, rule in enumerate(rules):
        matches = np.ones(len(offers), dtype=bool)
        if rule.when.categories:
            matches &= in_categories(categories, rule.when.categories).to_numpy()
        if rule.when.references:
            matches &= offers["reference"].astype(str).isin(rule.when.references).to_numpy()
        if rule.when.price is not None:
            matches &= rule.when.price.mask(offers["cost_price"], offers["retail_price"]).to_numpy()
        hit = matches & open_rows
        chosen[hit] = index
        open_rows &= ~hit
    return chosen


def price_offers(offers: pd.DataFrame, settings: PricingSettings, marketplace: Marketplace) -> pd.DataFrame:
    """Price every row of ``offers`` (``PRICING_INPUT_COLUMNS``); returns ``PRICE_COLUMNS``.

    Costs must be positive (the catalog_offer gate rejects the others before pricing).
    """
    import numpy as np
    import pandas as pd

    cost = offers["cost_price"].astype(float).to_numpy()
    if (~(cost > 0)).any():
        bad = offers.loc[~(cost > 0), "sku"].head(5).tolist()
        raise PricingError(f"cost_price must be positive to price an offer; not for {bad} (gate catalog_offer first)")
    rate = exchange_rate(settings, marketplace)
    cost_local = cost * float(rate)
    categories = normalise_categories(offers["category_path"])

    specs: list[StrategySpec] = [*settings.rules, settings.default]
    chosen = _first_match(offers, categories, settings.rules)
    rule_ids = np.array([r.id for r in settings.rules] + [DEFAULT_RULE_ID], dtype=object)[chosen]
    strategies = np.array([s.strategy for s in specs], dtype=object)[chosen]
    parameter = np.array([float(s.parameter) for s in specs])[chosen]

    target_net = np.select(
        [strategies == "margin_on_cost", strategies == "profit_on_price"],
        [cost_local * (1 + parameter / 100), cost_local / (1 - parameter / 100)],
        default=cost_local + parameter,
    )

    standard_vat = settings.vat_percent if settings.vat_percent is not None else marketplace.standard_vat
    vat = np.full(len(offers), float(standard_vat))
    vat_class = offers["vat_class"].fillna("").astype(str).str.strip().str.casefold().to_numpy()
    for name, percent in settings.vat_class_percent.items():
        vat[vat_class == name.strip().casefold()] = float(percent)

    fee = np.full(len(offers), float(settings.referral_fee_percent))
    fee_open = np.ones(len(offers), dtype=bool)
    for entry in settings.category_referral_fees:
        hit = in_categories(categories, entry.categories).to_numpy() & fee_open
        fee[hit] = float(entry.percent)
        fee_open &= ~hit

    # What the seller keeps of each unit of VAT-inclusive price; > 0.5 since fee < 50% and VAT < 100%.
    kept = 1 / (1 + vat / 100) - fee / 100
    strategy_price = target_net / kept
    min_margin = float(settings.min_margin_percent)
    floor_price = cost_local * (1 + min_margin / 100) / kept
    floor_applied = floor_price > strategy_price + 1e-9
    price = _round_up(np.maximum(strategy_price, floor_price), settings.rounding)
    margin = (price * kept - cost_local) / cost_local * 100

    last_price = offers["last_price"].astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(last_price > 0, np.abs(price - last_price) / last_price * 100, np.nan)

    return pd.DataFrame(
        {
            "sku": offers["sku"].to_numpy(),
            "reference": offers["reference"].to_numpy(),
            "cost_price": cost,
            "exchange_rate": float(rate),
            "cost_local": np.round(cost_local, 4),
            "rule_id": rule_ids,
            "strategy": strategies,
            "parameter": parameter,
            "target_net": np.round(target_net, 4),
            "vat_percent": vat,
            "referral_fee_percent": fee,
            "strategy_price": np.round(strategy_price, 4),
            "min_margin_percent": min_margin,
            "floor_price": np.round(floor_price, 4),
            "floor_applied": floor_applied,
            "rounding": settings.rounding.describe(),
            "price": price,
            "currency": marketplace.currency,
            "margin_percent": np.round(margin, 3),
            "last_price": last_price,
            "price_change_percent": np.round(change, 3),
        },
        index=offers.index,
    )
