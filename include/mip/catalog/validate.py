"""The row rules of a catalog drop, applied column-wise to chunk frames (vectorised pandas).

Each function takes a frame of raw strings (one column per file column, plus the line number) and
returns the rows that pass, normalised (stripped text, 13-digit GTINs, canonical decimals), and a
rejection for every (row, field, rule) that fails. A row failing any rule is dropped; a row failing
two rules gets two rejections.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from mip import gtin
from mip.catalog.reader import LINE
from mip.catalog.rejections import Rejection, reject
from mip.catalog.supplier_format import DECIMALS, MAX_STOCK, VAT_CLASSES

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")


def _matches(values: pd.Series, pattern: re.Pattern) -> np.ndarray:
    match = pattern.fullmatch
    return np.fromiter((match(v) is not None for v in values.tolist()), dtype=bool, count=len(values))


class Checked:
    """Rejections collected while checking one frame, and which rows they hit."""

    def __init__(self, frame: pd.DataFrame, source: str, reference: pd.Series):
        self.frame, self.source, self.reference = frame, source, reference
        self.failed = np.zeros(len(frame), dtype=bool)
        self.rejections: list[Rejection] = []

    def add(
        self,
        mask: pd.Series | np.ndarray,
        field: str | None,
        rule: str,
        detail: str | pd.Series,
        values: pd.Series | None = None,
    ) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self.failed |= mask
        lines = self.frame[LINE].to_numpy()[mask].tolist()
        refs = self.reference.to_numpy()[mask].tolist()
        shown = (values if values is not None else self.frame[field]) if field else None
        vals = shown.to_numpy()[mask].tolist() if shown is not None else [None] * len(lines)
        details = detail.to_numpy()[mask].tolist() if isinstance(detail, pd.Series) else [detail] * len(lines)
        self.rejections.extend(
            reject(self.source, line, ref or None, field, rule, value, text)
            for line, ref, value, text in zip(lines, refs, vals, details, strict=True)
        )

    def passed(self, out: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``out`` without a rejection (keeping the frame's index)."""
        return out.loc[~self.failed]


def _text(values: pd.Series) -> pd.Series:
    """Stripped strings ("" for missing). A list comprehension over the column: several times faster
    than ``.str.strip()`` on Python-object strings."""
    return pd.Series(
        [v.strip() if isinstance(v, str) else "" for v in values.tolist()], index=values.index, dtype=object
    )


def _by_value(values: pd.Series, normalise) -> pd.Series:
    """``normalise`` applied once per distinct value (brands, categories, VAT classes repeat a lot)."""
    unique = pd.unique(values.to_numpy())
    return values.map(dict(zip(unique, map(normalise, unique), strict=True)))


def _canonical(values: np.ndarray, decimals: int) -> list[str | None]:
    text = f"{{:.{decimals}f}}".format
    return [None if v != v else text(v) for v in np.round(values, decimals).tolist()]  # v != v: NaN


def _category(value: str) -> str:
    return " > ".join(part.strip() for part in value.split(">")) if value else ""


def _images(value: str) -> str:
    if " " not in value and "||" not in value and not value.startswith("|") and not value.endswith("|"):
        return value
    return "|".join(url.strip() for url in value.split("|") if url.strip())


def decimal(check: Checked, name: str, *, required: bool, positive_rule: str | None = None) -> list[str | None]:
    """A decimal column as canonical strings (``12.50``; None when empty), rejecting what does not parse."""
    limit, decimals = DECIMALS[name]
    raw = _text(check.frame[name])
    empty = raw == ""
    numeric = _matches(raw, _NUMBER)
    unparsable = ~empty & ~numeric
    check.add(
        unparsable,
        name,
        "unparsable_number",
        "is not a number (use '.' as the decimal point, no thousands separators)",
        raw,
    )
    values = pd.to_numeric(raw.where(numeric), errors="coerce").to_numpy(dtype="float64")
    empty = empty.to_numpy()
    with np.errstate(invalid="ignore", over="ignore"):
        rounded = np.round(values, decimals)
        if positive_rule:
            check.add(rounded <= 0, name, positive_rule, "must be greater than 0", raw)
            if required:
                check.add(empty, name, positive_rule, "is empty: every product needs a cost price", raw)
        else:
            check.add(rounded < 0, name, "out_of_range", "must not be negative", raw)
        check.add(
            (~np.isfinite(values) & numeric) | (rounded > limit),
            name,
            "out_of_range",
            f"is too large (at most {limit})",
            raw,
        )
    return _canonical(values, decimals)


def products(frame: pd.DataFrame, source: str, default_language: str) -> tuple[pd.DataFrame, list[Rejection]]:
    """Product rows: reference, GTIN, default-language name, numbers, VAT class."""
    reference = _text(frame["reference"])
    check = Checked(frame, source, reference)
    out = pd.DataFrame({"reference": reference, LINE: frame[LINE]})
    check.add(reference == "", "reference", "missing_reference", "is empty: every product needs a reference", reference)

    gtins = gtin.check_column(_text(frame["ean"]))
    check.add(~gtins.well_formed, "ean", "gtin_format", "is not a GTIN: 12 (UPC-A) or 13 (EAN-13) digits expected")
    wrong_digit = gtins.well_formed & ~gtins.valid
    check.add(wrong_digit, "ean", "gtin_checksum", "has a wrong check digit (expected " + gtins.expected + ")")
    out["ean"] = gtins.gtin13

    for column in frame.columns:
        if column.startswith(("name_", "description_")):
            out[column] = _text(frame[column])
    name = f"name_{default_language}"
    if name not in out:
        out[name] = ""
    check.add(
        out[name] == "",
        name,
        "missing_name",
        f"is empty: every product needs a name in the catalog language '{default_language}' (catalog.language "
        "in channels.yaml)",
        out[name],
    )

    for column in ("weight_kg", "length_cm", "width_cm", "height_cm"):
        out[column] = decimal(check, column, required=False)

    vat = _by_value(_text(frame["vat_class"]), str.lower)
    check.add(
        ~vat.isin(VAT_CLASSES),
        "vat_class",
        "unknown_vat_class",
        f"is not one of {', '.join(VAT_CLASSES)}",
        frame["vat_class"],
    )
    out["vat_class"] = vat
    brand = _text(frame["brand"])
    out["brand"] = brand.where(brand != "", None)
    category = _by_value(_text(frame["category"]), _category)
    out["category_path"] = category.where(category != "", None)
    out["images"] = [_images(v) for v in _text(frame["images"]).tolist()]
    return check.passed(out), check.rejections


def prices(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, list[Rejection]]:
    """Price rows: cost_price > 0 (required), retail_price > 0 when given."""
    reference = _text(frame["reference"])
    check = Checked(frame, source, reference)
    check.add(
        reference == "", "reference", "missing_reference", "is empty: every price line needs a reference", reference
    )
    out = pd.DataFrame({"reference": reference, LINE: frame[LINE]})
    out["cost_price"] = decimal(check, "cost_price", required=True, positive_rule="non_positive_cost")
    out["retail_price"] = decimal(check, "retail_price", required=False, positive_rule="non_positive_price")
    return check.passed(out), check.rejections


def stock(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, list[Rejection]]:
    """Stock rows: a whole number, 0 or more."""
    reference = _text(frame["reference"])
    check = Checked(frame, source, reference)
    check.add(
        reference == "", "reference", "missing_reference", "is empty: every stock line needs a reference", reference
    )
    raw = _text(frame["stock"])
    whole = _matches(raw, _INTEGER)
    check.add(~whole, "stock", "unparsable_number", "is not a whole number", raw)
    values = pd.to_numeric(raw.where(whole), errors="coerce").to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        check.add(values < 0, "stock", "negative_stock", "must be 0 or more", raw)
        check.add(values > MAX_STOCK, "stock", "out_of_range", f"is too large (at most {MAX_STOCK})", raw)
    out = pd.DataFrame({"reference": reference, LINE: frame[LINE]})
    out["stock"] = [None if np.isnan(v) else str(int(v)) for v in values.tolist()]
    return check.passed(out), check.rejections


def duplicated(keys: list[tuple[str, int]], source: str) -> tuple[set[str], list[Rejection]]:
    """References on more than one line of a file: all their lines are rejected."""
    counts = Counter(reference for reference, _ in keys)
    repeated = {reference for reference, count in counts.items() if count > 1}
    lines: dict[str, list[int]] = {reference: [] for reference in repeated}
    for reference, line in keys:
        if reference in repeated:
            lines[reference].append(line)
    rejections: list[Rejection] = []
    for reference, found in lines.items():
        listed = ", ".join(map(str, found))
        rejections.extend(
            reject(
                source,
                line,
                reference,
                "reference",
                "duplicate_reference",
                reference,
                f"is on lines {listed} of {source}: every line of a duplicated reference is rejected",
            )
            for line in found
        )
    return repeated, rejections
