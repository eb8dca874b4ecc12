"""GTIN (EAN-13 / UPC-A) checks, normalised to 13 digits.

A UPC-A code (12 digits) is the EAN-13 with a leading 0, so ``036000291452`` is stored as
``0036000291452``; spaces and hyphens are separators and dropped. EAN-8 and GTIN-14 are refused
(Amazon's EAN identifier is 13 digits, its UPC 12).

python-stdnum (``stdnum.ean``) is the authority on the checksum. Calling it for every value costs
about 5 µs each (1 s per 200,000 products), so the GS1 check digit is first computed for the whole
column at once with numpy, and only the numbers that fail it are passed to stdnum, which confirms the
failure and names the expected digit. A unit test holds the two to the same verdicts.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from stdnum import ean
from stdnum.exceptions import ValidationError

_SEPARATORS = re.compile(r"[\s-]")
_WEIGHTS = np.array([1, 3] * 6 + [1], dtype=np.int64)  # EAN-13 positions 1..13 (check digit last, weight 1)


def _fast_valid(gtin13: pd.Series) -> np.ndarray:
    """GS1 checksum of 13-digit strings, vectorised (True = valid)."""
    if gtin13.empty:
        return np.zeros(0, dtype=bool)
    digits = np.frombuffer("".join(gtin13.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 13) - 48
    return (digits.astype(np.int64) @ _WEIGHTS) % 10 == 0


def _expected_digit(number: str) -> str:
    """The check digit stdnum expects, or "" when stdnum finds the number valid after all."""
    try:
        ean.validate(number)
    except ValidationError:
        return ean.calc_check_digit(number[:-1])
    return ""


def check(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """For raw EAN strings: (13-digit GTIN, rule broken or "", expected check digit or "").

    The rule is ``gtin_format`` (not 12 or 13 digits) or ``gtin_checksum`` (wrong check digit).
    """
    compact = [v if v.isdigit() else _SEPARATORS.sub("", v) for v in values.tolist()]
    gtin13 = pd.Series(["0" + v if len(v) == 12 else v for v in compact], index=values.index, dtype=object)
    well_formed = pd.Series(
        [len(v) in (12, 13) and v.isascii() and v.isdigit() for v in compact], index=values.index, dtype=bool
    )
    rule = pd.Series("", index=values.index, dtype=object)
    expected = pd.Series("", index=values.index, dtype=object)
    rule.loc[~well_formed] = "gtin_format"
    candidates = gtin13[well_formed]
    suspects = candidates[~_fast_valid(candidates)]
    if not suspects.empty:
        digits = suspects.map(_expected_digit)
        digits = digits[digits != ""]
        rule.loc[digits.index] = "gtin_checksum"
        expected.loc[digits.index] = digits
    return gtin13, rule, expected
