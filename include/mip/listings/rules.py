"""The row matchers of a channel's publish settings (the settings models: ``mip.settings``).

Matching is vectorised (pandas Series in, boolean Series out) so selection and pricing rules run
over 200,000 products without a per-row Python loop. Categories are paths ("Home > Kitchen >
Knives"); a category includes its subcategories, compared case-insensitively with the spaces
around ">" ignored. Price ranges include their minimum and exclude their maximum
(``min <= value < max``), so consecutive tiers never overlap.

pandas is imported inside the functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

_SEPARATOR = re.compile(r"\s*>\s*")


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
