"""How listing and catalog values are compared: GTINs, titles, brands, fulfilment, product id types.

- GTIN (``mip.gtin``): separators (spaces, hyphens, dots) dropped; a valid UPC-A or EAN-13 (the
  catalog's lengths too) becomes its 14-digit form, so a UPC-12 and the same number as EAN-13 with a
  leading zero are one product. An invalid number, an EAN-8 or a GTIN-14 is no GTIN at all (it never
  matches anything).
- Title and brand: case folded, accents removed, punctuation turned into spaces, spaces collapsed:
  ``"Tè verde  Tea Garden - PLUS 880"`` and ``"te verde tea garden plus 880"`` are equal.
- Fulfilment: Amazon's ``fulfillment-channel`` (``DEFAULT`` = the merchant ships; ``AMAZON_EU``,
  ``AMAZON_NA``, ... = FBA) or the flat-file spellings (``MFN``/``AFN``) -> ``MFN`` / ``AFN``;
  anything else is unknown (None), and an unknown listing is never deleted.
- Product id type: the report's codes (1 ASIN, 2 ISBN, 3 UPC, 4 EAN) or names.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from mip import gtin

if TYPE_CHECKING:
    import pandas as pd

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
GTIN_TYPES = ("EAN", "UPC", "GTIN", "JAN")
PRODUCT_ID_TYPES = {
    "1": "ASIN",
    "2": "ISBN",
    "3": "UPC",
    "4": "EAN",
    "ASIN": "ASIN",
    "ISBN": "ISBN",
    "UPC": "UPC",
    "EAN": "EAN",
    "GTIN": "GTIN",
    "JAN": "JAN",
    "GCID": "GCID",
}
MFN_CODES = {"DEFAULT", "MFN", "MERCHANT", "MERCHANT_FULFILLED"}
AFN_CODES = {"AFN", "FBA", "AMAZON"}


def compact_gtin(value: str | None) -> str | None:
    """The digits of a product id written with separators, or None when empty."""
    return gtin.compact(value)


def gtin_key(value: str | None) -> str | None:
    """The 14-digit form of a valid GTIN (UPC-A or EAN-13: ``mip.gtin``), else None."""
    return gtin.gtin14(value)


def gtin_keys(values: pd.Series) -> pd.Series:
    """``gtin_key`` of a whole column at once (the catalog's 200,000 EANs), vectorised by ``mip.gtin.valid``."""
    compact = values.astype("string").str.replace(gtin.SEPARATORS, "", regex=True)
    valid = gtin.valid(compact.astype(object))
    return compact.str.zfill(14).astype(object).where(valid, None)


def gtin_form(value: str | None) -> str | None:
    """How a GTIN is written: ``UPC-12`` or ``EAN-13`` (by its digits)."""
    return gtin.form(value)


def normalise_text(text: str | None) -> str | None:
    """Case, accents and punctuation removed, spaces collapsed; None for an empty text."""
    if text is None or text != text:  # None or NaN
        return None
    text = str(text).casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    normalised = " ".join(_NOT_ALNUM.sub(" ", text).split())
    return normalised or None


def brand_in_title(brand_key: str | None, title_key: str | None) -> bool:
    """Whether the normalised brand appears as whole words in the normalised title."""
    if not brand_key or not title_key:
        return False
    return f" {brand_key} " in f" {title_key} "


def fulfillment(value: str | None) -> str | None:
    """``MFN`` (the merchant ships), ``AFN`` (fulfilled by Amazon) or None (unknown)."""
    if value is None:
        return None
    code = str(value).strip().upper().replace("-", "_").replace(" ", "_")
    if not code:
        return None
    if code in MFN_CODES:
        return "MFN"
    if code in AFN_CODES or code.startswith("AMAZON_"):
        return "AFN"
    return None


def product_id_type(value: str | None) -> str | None:
    if value is None:
        return None
    return PRODUCT_ID_TYPES.get(str(value).strip().upper())


def sku_candidates(sku: str) -> list[str]:
    """Every run of whole tokens of ``sku`` (tokens split at non-alphanumerics), upper-cased.

    ``"OLD_v1000004-2019"`` -> ``OLD``, ``OLD_V1000004``, ``OLD_V1000004-2019``, ``V1000004``, ...
    A supplier reference matches a SKU only as whole tokens (``V1000004`` is in ``X-V1000004-IT`` but
    not in ``XV1000004IT``), so short references never match by accident.
    """
    upper = sku.upper()
    bounds = [m.span() for m in re.finditer(r"[A-Z0-9]+", upper)]
    found = []
    for i in range(len(bounds)):
        for j in range(i, len(bounds)):
            found.append(upper[bounds[i][0] : bounds[j][1]])
    return found
