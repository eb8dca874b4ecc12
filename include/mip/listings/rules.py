"""Building blocks of a channel's publish settings: the strict model base and the row matchers.

Matching is vectorised (pandas Series in, boolean Series out) so selection and pricing rules run
over 200,000 products without a per-row Python loop. Categories are paths ("Home > Kitchen >
Knives"); a category includes its subcategories, compared case-insensitively with the spaces
around ">" ignored. Price ranges include their minimum and exclude their maximum
(``min <= value < max``), so consecutive tiers never overlap.

This module is imported while DAG files are parsed (through ``mip.config``): pandas is imported
only for type checking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CATALOG_CURRENCY = "EUR"
_SEPARATOR = re.compile(r"\s*>\s*")


def violation(problem: str, fix: str) -> ValueError:
    """A ``mip.config.RuleViolation``: the topology loader reports the problem and the fix.

    Imported late because ``mip.config`` imports these models.
    """
    from mip.config import RuleViolation

    return RuleViolation(problem, fix)


class SettingsModel(BaseModel):
    """Unknown fields are refused (a typo never silently becomes a default); models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def normalise_category(path: str) -> str:
    """``" Home>Kitchen  > Knives "`` -> ``"home > kitchen > knives"``."""
    return _SEPARATOR.sub(" > ", path.strip()).casefold()


def category_matches(path: str | None, category: str) -> bool:
    """Whether ``path`` is ``category`` or one of its subcategories (scalar form of ``in_categories``)."""
    if not isinstance(path, str):  # None, or NaN from a pandas column
        return False
    path, category = normalise_category(path), normalise_category(category)
    return path == category or path.startswith(category + " > ")


@dataclass(frozen=True)
class CategoryColumn:
    """A column of category paths, factorised: a catalog has 200,000 rows but a few hundred distinct
    paths, so matching runs on the distinct (normalised) paths and is mapped back by code."""

    index: pd.Index
    codes: np.ndarray
    paths: pd.Series  # distinct normalised paths; codes index into it


def normalise_categories(paths: pd.Series) -> CategoryColumn:
    import pandas as pd

    codes, distinct = pd.factorize(paths.fillna("").astype(str), sort=False)
    normalised = pd.Series(distinct).str.replace(_SEPARATOR, " > ", regex=True).str.strip().str.casefold()
    return CategoryColumn(paths.index, codes, normalised)


def in_categories(column: CategoryColumn, categories: Iterable[str]) -> pd.Series:
    """Rows whose category path is one of ``categories`` or below one of them."""
    import pandas as pd

    wanted = [normalise_category(c) for c in categories]
    hit = column.paths.isin(wanted)
    if wanted:
        hit |= column.paths.str.startswith(tuple(c + " > " for c in wanted))
    return pd.Series(hit.to_numpy()[column.codes], index=column.index)


def normalise_names(values: pd.Series) -> pd.Series:
    """Brands and references compare case-insensitively, ignoring surrounding spaces."""
    return values.fillna("").astype(str).str.strip().str.casefold()


def in_names(normalised_values: pd.Series, names: Iterable[str]) -> pd.Series:
    return normalised_values.isin([n.strip().casefold() for n in names])


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
