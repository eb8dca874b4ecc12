"""``mip.gtin``: the vectorised helpers give python-stdnum's verdicts on many random codes, and the
valid lengths (UPC-A, EAN-13) are the same for the catalog, the publish gate and the migration matcher."""

from __future__ import annotations

import random

import pandas as pd
import pytest
from stdnum import ean

from mip import gtin
from mip.migration import normalise
from mip.quality.checks import gtin_checksum


def random_codes(count: int, seed: int = 15) -> list[str]:
    """Valid, wrong-digit and mangled codes of every length 6-15 (a fixed seed: reproducible)."""
    rng = random.Random(seed)
    codes = []
    for _ in range(count):
        length = rng.choice([8, 12, 12, 13, 13, 13, 14, rng.randrange(6, 16)])
        body = "".join(rng.choice("0123456789") for _ in range(length - 1))
        code = body + ean.calc_check_digit(body)
        kind = rng.randrange(4)
        if kind == 1:  # a wrong check digit
            code = code[:-1] + str((int(code[-1]) + rng.randrange(1, 10)) % 10)
        elif kind == 2:  # a letter or a non-ASCII digit somewhere
            at = rng.randrange(length)
            code = code[:at] + rng.choice("aX٣ ") + code[at + 1 :]
        codes.append(code)
    return codes


def stdnum_verdict(code: str) -> bool:
    return len(code) in (12, 13) and code.isascii() and code.isdigit() and ean.is_valid(code)


def test_valid_agrees_with_stdnum_on_random_codes():
    codes = random_codes(20_000)
    verdicts = gtin.valid(pd.Series(codes, dtype=object)).tolist()
    expected = [stdnum_verdict(c) for c in codes]
    assert verdicts == expected
    # the scalar drops separators first (the column helper takes codes as given)
    assert [gtin.is_valid(c) for c in codes] == [stdnum_verdict(gtin.compact(c) or "") for c in codes]
    assert 3_000 < sum(expected) < 17_000, "the sample holds valid and invalid codes alike"


def test_check_column_names_stdnums_digit_and_the_13_digit_form():
    codes = random_codes(5_000, seed=16)
    checked = gtin.check_column(pd.Series(codes, dtype=object))  # separators dropped first
    for code, shaped, ok, digit, form13 in zip(
        codes, checked.well_formed, checked.valid, checked.expected, checked.gtin13, strict=True
    ):
        code = gtin.compact(code) or ""
        assert ok == stdnum_verdict(code), code
        assert shaped == (len(code) in (12, 13) and code.isascii() and code.isdigit()), code
        assert digit == ("" if ok or not shaped else ean.calc_check_digit(code[:-1])), code
        if ok:
            assert form13 == code.zfill(13) == gtin.gtin13(code)


@pytest.mark.parametrize(
    ("raw", "valid", "form"),
    [
        ("036000291452", True, "UPC-12"),
        ("0036000291452", True, "EAN-13"),
        ("4006381 333931", True, "EAN-13"),
        ("400-638-133393.1", True, "EAN-13"),
        ("96385074", False, None),  # EAN-8: a valid GS1 number, not a length MIP accepts
        ("10036000291459", False, None),  # GTIN-14 likewise
        ("4006381333932", False, "EAN-13"),  # wrong check digit
    ],
)
def test_one_set_of_lengths_for_catalog_gate_and_migration(raw, valid, form):
    assert gtin.is_valid(raw) is valid
    assert gtin.form(raw) == form
    assert (normalise.gtin_key(raw) is not None) is valid
    assert normalise.gtin_keys(pd.Series([raw])).notna().tolist() == [valid]
    code = gtin.compact(raw)
    assert gtin_checksum(pd.Series([code])).tolist() == [valid]
    assert bool(gtin.check_column(pd.Series([raw], dtype=object)).valid[0]) is valid


def test_the_matcher_key_is_14_digits_for_both_forms():
    assert gtin.gtin14("036000291452") == gtin.gtin14("0036000291452") == "00036000291452"
    assert gtin.gtin14("96385074") is None
