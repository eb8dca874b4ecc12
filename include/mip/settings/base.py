"""The base of the ``channels.yaml`` settings models: the rule error, the strict model, shared field types.

At the bottom of MIP: imports nothing of it, and nothing heavy (parsed with every DAG file through
``mip.config``). pandas is imported only for type checking.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    import pandas as pd

CATALOG_CURRENCY = "EUR"
# Every product needs a name in this language (the others may be missing; publishing falls back to it).
DEFAULT_LANGUAGE = "en"


class RuleViolation(ValueError):
    """Raised by field validators: the problem, and the fix the error message offers."""

    def __init__(self, problem: str, fix: str):
        super().__init__(problem)
        self.problem, self.fix = problem, fix


def violation(problem: str, fix: str) -> ValueError:
    """A ``RuleViolation``: the topology loader reports the problem and the fix."""
    return RuleViolation(problem, fix)


class SettingsModel(BaseModel):
    """Unknown fields are refused (a typo never silently becomes a default); models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_categories(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if not value.strip() or any(not part.strip() for part in value.split(">")):
            raise violation(
                f"category {value!r} is not a category path",
                'write categories as the supplier does, levels separated by ">" (e.g. "Home > Kitchen")',
            )
    return values


class PriceRange(SettingsModel):
    """``min <= value < max`` on the cost or on the RRP (recommended retail price), catalog currency."""

    basis: Literal["cost", "rrp"] = Field(description="cost = supplier's cost price, rrp = its recommended price")
    min: Decimal | None = Field(default=None, ge=0)
    max: Decimal | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _bounded(self) -> PriceRange:
        if self.min is None and self.max is None:
            raise violation("a price range needs min, max or both", "add min: and/or max: (catalog currency)")
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise violation(
                f"price range min {self.min} is not below max {self.max}",
                "the range is min <= price < max; swap or widen the bounds",
            )
        return self

    def mask(self, cost: pd.Series, rrp: pd.Series) -> pd.Series:
        """Rows inside the range; a product without an RRP is outside every RRP range."""
        value = cost if self.basis == "cost" else rrp
        inside = value.notna()
        if self.min is not None:
            inside &= value >= float(self.min)
        if self.max is not None:
            inside &= value < float(self.max)
        return inside

    def describe(self) -> str:
        low = "" if self.min is None else f"{self.min} <= "
        high = "" if self.max is None else f" < {self.max}"
        return f"{low}{self.basis}{high}"


Categories = Annotated[tuple[str, ...], AfterValidator(_check_categories)]
"""A list of category paths (YAML list); each includes its subcategories."""
