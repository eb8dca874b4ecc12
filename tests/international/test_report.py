"""Reading the merchant listings report for verification: MIP SKUs, prices, damaged documents refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mip.international.report import ReportDamaged, parse
from sandbox.spapi.reports.content import LISTINGS_COLUMNS, malform, truncate

NAME = "listings report 60000000013 (FR)"


def row(sku: str, price: str = "19.90", status: str = "Active", asin: str = "B0TEST0001") -> str:
    values = dict.fromkeys(LISTINGS_COLUMNS, "")
    values.update({"seller-sku": sku, "price": price, "status": status, "asin1": asin, "item-name": f"Item {sku}"})
    return "\t".join(values[c] for c in LISTINGS_COLUMNS)


def report(*rows: str) -> str:
    return "\t".join(LISTINGS_COLUMNS) + "\n" + "".join(r + "\n" for r in rows)


def test_mip_skus_are_read_and_other_skus_only_counted():
    parsed = parse(report(row("MIP-A1", "19.90"), row("CSV-FR-00001", "5"), row("MIP-B2", "", "Incomplete", "")), NAME)
    assert parsed.other_rows == 1
    assert set(parsed.listings) == {"MIP-A1", "MIP-B2"}
    a, b = parsed.listings["MIP-A1"], parsed.listings["MIP-B2"]
    assert (a.price, a.status, a.asin) == (Decimal("19.90"), "Active", "B0TEST0001")
    assert (b.price, b.status, b.asin) == (None, "Incomplete", None)


def test_an_empty_marketplace_has_no_listings():
    assert parse(report(), NAME).listings == {}


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda text: truncate(text.encode()).decode(), "fields where the header has 29"),
        (lambda text: malform(text.encode()).decode(), "fields where the header has 29"),
        (lambda text: text.replace("seller-sku", "sku-of-seller", 1), "lacks column(s) seller-sku"),
        (lambda text: "", "the report is empty"),
    ],
)
def test_a_damaged_report_is_refused_naming_the_line(damage, expected):
    text = report(*(row(f"MIP-{n}") for n in range(6)))
    with pytest.raises(ReportDamaged, match=r"listings report 60000000013 \(FR\)") as raised:
        parse(damage(text), NAME)
    assert expected in str(raised.value)


def test_a_row_cut_short_names_its_line_and_the_fix():
    text = report(row("MIP-1"), row("MIP-2"), row("MIP-3")[:40])
    with pytest.raises(ReportDamaged, match="line 4 has 17 fields where the header has 29") as raised:
        parse(text, NAME)
    assert "clear its request_listings task" in str(raised.value)


def test_a_bad_price_or_a_twice_listed_sku_is_refused():
    with pytest.raises(ReportDamaged, match="line 2, column price: 'abc' is not a number"):
        parse(report(row("MIP-1", "abc")), NAME)
    with pytest.raises(ReportDamaged, match="line 3: seller-sku 'MIP-1' appears twice"):
        parse(report(row("MIP-1"), row("MIP-1")), NAME)
