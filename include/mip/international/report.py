"""The merchant listings report (``GET_MERCHANT_LISTINGS_ALL_DATA``) of one marketplace, read for
verification: which MIP SKUs exist there, at which price and status.

The report is Amazon's tab-separated text with a header row. A row with the wrong number of fields
(a truncated or damaged document) makes the whole report untrustworthy for this purpose, because
a lost row would show up as a "missing" copy: ``ReportDamaged`` names the line and asks for a new
report instead of reporting false absences.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from mip.listings.sku import is_mip_sku

REQUIRED_COLUMNS = ("seller-sku", "price")
OPTIONAL_COLUMNS = ("status", "asin1")


class ReportDamaged(ValueError):
    """The report cannot be trusted; the message names the report, the line and what is wrong."""


@dataclass(frozen=True)
class TargetListing:
    sku: str
    price: Decimal | None
    status: str | None
    asin: str | None


@dataclass(frozen=True)
class TargetListings:
    """The MIP SKUs of the report (other SKUs are only counted: they are not ours to verify)."""

    listings: dict[str, TargetListing]
    other_rows: int


def _price(value: str, name: str, line: int) -> Decimal | None:
    text = value.strip()
    if not text:
        return None
    try:
        price = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ReportDamaged(f"{name}: line {line}, column price: {value!r} is not a number") from None
    if not price.is_finite() or price < 0:
        raise ReportDamaged(f"{name}: line {line}, column price: {value!r} is not a price")
    return price


def parse(text: str, name: str) -> TargetListings:
    """Parse the report's text; ``name`` (e.g. ``listings report 60000000013 (FR)``) goes in every error."""
    # split on line feeds only: str.splitlines() would also split inside a title holding \x1c or \u2028
    lines = [line.removesuffix("\r") for line in text.lstrip("\ufeff").split("\n")]
    if not lines or not lines[0].strip():
        raise ReportDamaged(f"{name}: the report is empty (no header row); request a new report")
    header = [h.strip().lower() for h in lines[0].split("\t")]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ReportDamaged(
            f"{name}: line 1 (header) lacks column(s) {', '.join(missing)}; is this a GET_MERCHANT_LISTINGS_ALL_DATA "
            f"report? Header: {', '.join(header[:8])}{', ...' if len(header) > 8 else ''}"
        )
    index = {column: header.index(column) for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if column in header}
    listings: dict[str, TargetListing] = {}
    other = 0
    for line, row in enumerate(lines[1:], start=2):
        if not row.strip():
            continue
        fields = row.split("\t")
        if len(fields) != len(header):
            raise ReportDamaged(
                f"{name}: line {line} has {len(fields)} fields where the header has {len(header)} (a truncated or "
                "damaged document); a lost row would look like a missing copy, so nothing was compared. Fix: run "
                "the verification again (clear its request_listings task) to get a new report"
            )
        sku = fields[index["seller-sku"]].strip()
        if not sku:
            raise ReportDamaged(f"{name}: line {line}, column seller-sku is empty")
        if not is_mip_sku(sku):
            other += 1
            continue
        if sku in listings:
            raise ReportDamaged(f"{name}: line {line}: seller-sku {sku!r} appears twice")
        status = (fields[index["status"]].strip() or None) if "status" in index else None
        asin = (fields[index["asin1"]].strip() or None) if "asin1" in index else None
        listings[sku] = TargetListing(sku, _price(fields[index["price"]], name, line), status, asin)
    return TargetListings(listings, other)
