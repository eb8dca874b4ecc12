"""A main channel's ``publish.pricing`` settings; what they mean and how prices are computed from them:
``mip.listings.pricing``."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from mip.settings.base import Categories, PriceRange, SettingsModel, violation

Strategy = Literal["margin_on_cost", "profit_on_price", "fixed_markup"]
STRATEGIES: tuple[Strategy, ...] = ("margin_on_cost", "profit_on_price", "fixed_markup")
DEFAULT_RULE_ID = "default"


class StrategySpec(SettingsModel):
    strategy: Strategy
    percent: Decimal | None = Field(default=None, ge=0, description="for margin_on_cost and profit_on_price")
    amount: Decimal | None = Field(default=None, ge=0, description="for fixed_markup, marketplace currency")

    @model_validator(mode="after")
    def _parameter_fits_strategy(self) -> StrategySpec:
        if self.strategy == "fixed_markup":
            if self.amount is None or self.percent is not None:
                raise violation(
                    "strategy fixed_markup takes amount (and no percent)",
                    "write e.g. {strategy: fixed_markup, amount: 4.50}",
                )
        else:
            if self.percent is None or self.amount is not None:
                raise violation(
                    f"strategy {self.strategy} takes percent (and no amount)",
                    f"write e.g. {{strategy: {self.strategy}, percent: 30}}",
                )
            if self.strategy == "profit_on_price" and self.percent >= 100:
                raise violation(
                    f"profit_on_price percent {self.percent} must be below 100 (cost / (1 - p) is infinite at 100)",
                    "use a profit share below 100, e.g. percent: 25",
                )
        return self

    @property
    def parameter(self) -> Decimal:
        return self.amount if self.strategy == "fixed_markup" else self.percent  # type: ignore[return-value]


class RuleMatch(SettingsModel):
    """All given conditions must hold."""

    categories: Categories = ()
    references: tuple[str, ...] = ()
    price: PriceRange | None = None

    @model_validator(mode="after")
    def _has_a_condition(self) -> RuleMatch:
        if not (self.categories or self.references or self.price):
            raise violation(
                "a rule needs at least one condition (categories, references or price)",
                "add a condition, or move the strategy to pricing.default",
            )
        return self


class PriceRule(StrategySpec):
    id: str = Field(min_length=1)
    when: RuleMatch


class CategoryFee(SettingsModel):
    categories: Categories = Field(min_length=1)
    percent: Decimal = Field(ge=0, lt=50)


class Rounding(SettingsModel):
    """Prices are always rounded *up*: to an ending (``0.99`` -> 12.99), a step (``0.05``) or the cent."""

    ending: Decimal | None = Field(default=None, ge=0, lt=1, decimal_places=2)
    step: Decimal | None = Field(default=None, gt=0, decimal_places=2)

    @model_validator(mode="after")
    def _one_mode(self) -> Rounding:
        if self.ending is not None and self.step is not None:
            raise violation("rounding takes ending or step, not both", "keep one, e.g. rounding: {ending: 0.99}")
        return self

    def describe(self) -> str:
        if self.ending is not None:
            return f"up to ending {self.ending}"
        if self.step is not None:
            return f"up to step {self.step}"
        return "up to cent"


class PricingSettings(SettingsModel):
    default: StrategySpec
    rules: tuple[PriceRule, ...] = ()
    referral_fee_percent: Decimal = Field(default=Decimal(15), ge=0, lt=50)
    category_referral_fees: tuple[CategoryFee, ...] = ()
    vat_percent: Decimal | None = Field(default=None, ge=0, lt=100, description="None: the marketplace's standard")
    vat_class_percent: dict[str, Decimal] = Field(default_factory=dict, description="supplier VAT class -> percent")
    min_margin_percent: Decimal = Field(default=Decimal(0), ge=0, description="on cost, after fee and VAT")
    rounding: Rounding = Rounding()
    exchange_rate: Decimal | None = Field(default=None, gt=0, description="marketplace currency per catalog EUR")

    @field_validator("vat_class_percent")
    @classmethod
    def _vat_rates(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for name, rate in value.items():
            if not 0 <= rate < 100:
                raise violation(f"VAT class {name!r}: {rate} is not a percentage in [0, 100)", "write e.g. reduced: 10")
        return value

    @model_validator(mode="after")
    def _unique_rule_ids(self) -> PricingSettings:
        ids = [r.id for r in self.rules]
        for rule_id in ids:
            if ids.count(rule_id) > 1 or rule_id == DEFAULT_RULE_ID:
                raise violation(
                    f"pricing rule id {rule_id!r} is used twice (or is the reserved id {DEFAULT_RULE_ID!r})",
                    "give every rule its own id: prices record the id of the rule that produced them",
                )
        return self
