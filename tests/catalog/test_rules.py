"""Each catalog rule with a failing row: the rejection names file, line, field, rule and value.

These read hand-written drops through ``mip.catalog.drop.read_drop`` (no database).
"""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest
from stdnum import ean

from mip import gtin
from mip.catalog import normalise
from mip.catalog.drop import ReadOptions, read_drop
from mip.catalog.supplier_format import CatalogSourceError, drop_files

HEADER = [
    "reference",
    "ean",
    "brand",
    "category",
    "name_it",
    "name_de",
    "name_en",
    "description_it",
    "description_en",
    "images",
    "vat_class",
    "weight_kg",
    "length_cm",
    "width_cm",
    "height_cm",
]


def gtin13(n: int) -> str:
    body = f"400638{n:06d}"
    return body + ean.calc_check_digit(body)


def product(n: int, **fields: str) -> dict[str, str]:
    row = {
        "reference": f"R{n}",
        "ean": gtin13(n),
        "brand": "Lumera",
        "category": "Home > Kitchen > Knives",
        "name_it": f"Coltello {n}",
        "name_de": f"Messer {n}",
        "name_en": f"Knife {n}",
        "description_it": "Un coltello.",
        "description_en": "A knife.",
        "images": f"https://img.example/{n}/1.jpg|https://img.example/{n}/2.jpg",
        "vat_class": "standard",
        "weight_kg": "0.25",
        "length_cm": "30",
        "width_cm": "4",
        "height_cm": "2",
    }
    row.update(fields)
    return row


def write_drop(folder, products: list, prices: list | None = None, stock: list | None = None, header=HEADER):
    """products: dicts (columns of HEADER) or raw bytes lines; prices/stock default to one line per dict."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [";".join(header).encode()]
    for item in products:
        lines.append(item if isinstance(item, bytes) else ";".join(item[c] for c in header).encode())
    (folder / "products.csv").write_bytes(b"\n".join(lines) + b"\n")
    dicts = [p for p in products if isinstance(p, dict)]
    if prices is None:
        prices = [f"{p['reference']};10.00;24.99" for p in dicts]
    if stock is None:
        stock = [f"{p['reference']};5" for p in dicts]
    (folder / "prices.csv").write_text("\n".join(["reference;cost_price;retail_price", *prices]) + "\n")
    (folder / "stock.csv").write_text("\n".join(["reference;stock", *stock]) + "\n")
    return folder


def read(folder, stored: dict[str, str] | None = None):
    products, prices, stock = drop_files(folder)
    spill = folder / "spill"
    spill.mkdir(exist_ok=True)
    return read_drop(products, prices, stock, stored or {}, spill, ReadOptions(chunk_rows=3, spill_rows=4))


def loaded(drop) -> pd.DataFrame:
    frames = list(drop.changed)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["reference"])


def only_rejection(drop):
    assert len(drop.rejections) == 1, [r.message for r in drop.rejections]
    return drop.rejections[0]


def test_a_good_drop_loads_everything(tmp_path):
    drop = read(write_drop(tmp_path, [product(1), product(2, ean="036000291452")]))
    assert drop.rejections == [] and drop.records == 2 and drop.loaded == 2
    rows = loaded(drop).set_index("reference")
    assert rows.loc["R2", "ean"] == "0036000291452"  # UPC-A normalised to 13 digits
    assert rows.loc["R1", "cost_price"] == "10.00" and rows.loc["R1", "stock"] == "5"
    assert rows.loc["R1", "weight_kg"] == "0.250" and rows.loc["R1", "length_cm"] == "30.00"


@pytest.mark.parametrize(
    ("fields", "field", "rule", "value", "detail"),
    [
        ({"ean": "4006381333932"}, "ean", "gtin_checksum", "4006381333932", "wrong check digit (expected 1)"),
        ({"ean": "12345"}, "ean", "gtin_format", "12345", "12 (UPC-A) or 13 (EAN-13) digits"),
        ({"ean": ""}, "ean", "gtin_format", "", "12 (UPC-A) or 13 (EAN-13) digits"),
        ({"name_en": " "}, "name_en", "missing_name", "", "catalog language 'en'"),
        ({"reference": ""}, "reference", "missing_reference", "", "is empty"),
        ({"weight_kg": "1,5"}, "weight_kg", "unparsable_number", "1,5", "'.' as the decimal point"),
        ({"length_cm": "-3"}, "length_cm", "out_of_range", "-3", "must not be negative"),
        ({"width_cm": "1e12"}, "width_cm", "out_of_range", "1e12", "too large"),
        ({"vat_class": "luxury"}, "vat_class", "unknown_vat_class", "luxury", "standard, reduced, super_reduced"),
    ],
)
def test_a_product_line_breaking_a_rule_is_rejected_with_file_line_field_rule_and_value(
    tmp_path, fields, field, rule, value, detail
):
    products = [product(1), product(2, **fields), product(3)]
    refs = [p["reference"] for p in products if p["reference"]]
    drop = read(write_drop(tmp_path, products, prices=[f"{r};1.00;2.00" for r in refs], stock=[f"{r};1" for r in refs]))
    rejection = only_rejection(drop)
    assert (rejection.source, rejection.line, rejection.field, rejection.rule, rejection.value) == (
        "products.csv",
        3,
        field,
        rule,
        value,
    )
    assert rejection.message.startswith("products.csv line 3")
    assert f"field {field}, rule {rule}: value '{value}'" in rejection.message and detail in rejection.message
    assert list(loaded(drop)["reference"]) == ["R1", "R3"]
    assert drop.loaded == 2 and drop.records == 3


@pytest.mark.parametrize(
    ("price", "rule", "value"),
    [
        ("R2;0.00;9.99", "non_positive_cost", "0.00"),
        ("R2;-4.50;9.99", "non_positive_cost", "-4.50"),
        ("R2;;9.99", "non_positive_cost", ""),
        ("R2;abc;9.99", "unparsable_number", "abc"),
        ("R2;5.00;0", "non_positive_price", "0"),
    ],
)
def test_a_bad_price_line_rejects_the_price_line_and_keeps_the_product_out(tmp_path, price, rule, value):
    products = [product(1), product(2)]
    drop = read(write_drop(tmp_path, products, prices=["R1;10.00;20.00", price]))
    rejection = only_rejection(drop)
    assert (rejection.source, rejection.line, rejection.record_key, rejection.rule, rejection.value) == (
        "prices.csv",
        3,
        "R2",
        rule,
        value,
    )
    assert list(loaded(drop)["reference"]) == ["R1"]


@pytest.mark.parametrize(
    ("line", "rule", "value"),
    [("R2;-1", "negative_stock", "-1"), ("R2;12a", "unparsable_number", "12a"), ("R2;3.5", "unparsable_number", "3.5")],
)
def test_a_bad_stock_line_is_rejected(tmp_path, line, rule, value):
    drop = read(write_drop(tmp_path, [product(1), product(2)], stock=["R1;4", line]))
    rejection = only_rejection(drop)
    assert (rejection.source, rejection.line, rejection.field, rejection.rule, rejection.value) == (
        "stock.csv",
        3,
        "stock",
        rule,
        value,
    )


def test_an_empty_retail_price_is_allowed(tmp_path):
    drop = read(write_drop(tmp_path, [product(1)], prices=["R1;10.00;"]))
    assert drop.rejections == [] and loaded(drop)["retail_price"].tolist() == [None]


def test_every_line_of_a_duplicated_reference_is_rejected(tmp_path):
    drop = read(
        write_drop(
            tmp_path,
            [product(1), product(2), product(3), product(2, name_en="Other")],
            prices=["R1;1;2", "R2;1;2", "R3;1;2"],
            stock=["R1;1", "R2;1", "R3;1"],
        )
    )
    assert sorted((r.line, r.rule, r.record_key) for r in drop.rejections) == [
        (3, "duplicate_reference", "R2"),
        (5, "duplicate_reference", "R2"),
    ]
    assert "is on lines 3, 5 of products.csv" in drop.rejections[0].message
    assert sorted(loaded(drop)["reference"]) == ["R1", "R3"] and drop.loaded == 2


def test_duplicates_in_the_prices_file_are_rejected_too(tmp_path):
    drop = read(write_drop(tmp_path, [product(1), product(2)], prices=["R1;1.00;2.00", "R2;1.00;2.00", "R1;3.00;4.00"]))
    assert sorted((r.source, r.line, r.rule) for r in drop.rejections) == [
        ("prices.csv", 2, "duplicate_reference"),
        ("prices.csv", 4, "duplicate_reference"),
    ]
    assert list(loaded(drop)["reference"]) == ["R2"]


def test_latin1_bytes_in_the_utf8_file_reject_that_line_only(tmp_path):
    good = ";".join(product(2).values()).encode()
    broken = good.replace(b"Messer 2", "Messer für Küche".encode("latin-1"))
    drop = read(
        write_drop(
            tmp_path,
            [product(1, name_de="Messer für Küche"), broken, product(3)],
            prices=["R1;1.00;2.00", "R2;1.00;2.00", "R3;1.00;2.00"],
            stock=["R1;1", "R2;1", "R3;1"],
        )
    )
    rejection = only_rejection(drop)
    assert (rejection.line, rejection.field, rejection.rule, rejection.record_key) == (
        3,
        "name_de",
        "broken_encoding",
        "R2",
    )
    assert rejection.value == "Messer f\\xfcr K\\xfcche" and "not valid UTF-8" in rejection.message
    assert "line 2 is UTF-8 text, so the file mixes encodings" in rejection.message
    assert sorted(loaded(drop)["reference"]) == ["R1", "R3"]


def test_a_nul_character_counts_as_broken_encoding(tmp_path):
    line = ";".join(product(2, brand="Lu\x00mera").values()).encode()
    drop = read(write_drop(tmp_path, [product(1), line], prices=["R1;1;2", "R2;1;2"], stock=["R1;1", "R2;1"]))
    rejection = only_rejection(drop)
    assert (rejection.field, rejection.rule, rejection.value) == ("brand", "broken_encoding", "Lu\\x00mera")


def test_a_line_with_another_number_of_fields_is_rejected(tmp_path):
    short = b"R2;4006381333931;Lumera"
    drop = read(write_drop(tmp_path, [product(1), short], prices=["R1;1;2", "R2;1;2"], stock=["R1;1", "R2;1"]))
    rejection = only_rejection(drop)
    assert (rejection.line, rejection.rule, rejection.record_key, rejection.field) == (3, "column_count", "R2", None)
    assert "3 fields separated by ';', the header has 15" in rejection.message


def test_products_without_price_or_stock_and_price_lines_without_product(tmp_path):
    drop = read(
        write_drop(
            tmp_path,
            [product(1), product(2), product(3)],
            prices=["R1;1;2", "R3;1;2", "R9;1;2"],
            stock=["R1;1", "R2;1"],
        )
    )
    assert sorted((r.source, r.line, r.rule, r.record_key) for r in drop.rejections) == [
        ("prices.csv", 4, "unknown_reference", "R9"),
        ("products.csv", 3, "missing_price", "R2"),
        ("products.csv", 4, "missing_stock", "R3"),
    ]
    assert list(loaded(drop)["reference"]) == ["R1"]


def test_a_row_breaking_two_rules_gets_two_rejections(tmp_path):
    drop = read(write_drop(tmp_path, [product(1, ean="1", vat_class="x")]))
    assert sorted(r.rule for r in drop.rejections) == ["gtin_format", "unknown_vat_class"]
    assert drop.loaded == 0


def test_quoted_fields_may_hold_separators_and_line_breaks_and_lines_stay_physical(tmp_path):
    quoted = product(2, description_en='"Sharp; strong\nand ""safe"""')
    drop = read(write_drop(tmp_path, [product(1), quoted, product(3, ean="1")]))
    rejection = only_rejection(drop)
    assert (rejection.line, rejection.record_key) == (5, "R3")  # R2 spans lines 3 and 4
    descriptions = loaded(drop).set_index("reference")["description_en"]
    assert descriptions["R2"] == 'Sharp; strong\nand "safe"'


def test_header_problems_stop_the_ingest_with_the_file_and_the_columns(tmp_path):
    header = [c for c in HEADER if c != "ean"]
    write_drop(tmp_path, [], header=header)
    with pytest.raises(CatalogSourceError, match=r"products.csv line 1: the header lacks column\(s\) ean"):
        read(tmp_path)


def test_a_byte_order_mark_and_header_case_are_accepted(tmp_path):
    write_drop(tmp_path, [product(1)])
    data = (tmp_path / "products.csv").read_bytes()
    (tmp_path / "products.csv").write_bytes(b"\xef\xbb\xbf" + data.replace(b"reference;ean", b"Reference;EAN", 1))
    assert read(tmp_path).loaded == 1


def test_a_drop_needs_exactly_one_products_file_and_the_other_two(tmp_path):
    with pytest.raises(CatalogSourceError, match="does not exist"):
        drop_files(tmp_path / "nowhere")
    write_drop(tmp_path, [product(1)])
    (tmp_path / "products.jsonl").write_text("")
    with pytest.raises(CatalogSourceError, match=r"both products\.csv and products\.jsonl"):
        drop_files(tmp_path)
    (tmp_path / "products.jsonl").unlink()
    (tmp_path / "stock.csv").unlink()
    with pytest.raises(CatalogSourceError, match=r"stock\.csv missing"):
        drop_files(tmp_path)


def test_json_lines_products(tmp_path):
    write_drop(tmp_path, [product(1), product(2), product(3), product(4)])
    (tmp_path / "products.csv").unlink()
    lines = [
        json.dumps(
            {
                "reference": "R1",
                "ean": gtin13(1),
                "brand": "Lumera",
                "category": "Home",
                "names": {"it": "Coltello", "en": "Knife"},
                "images": ["https://img.example/1.jpg"],
                "vat_class": "standard",
                "weight_kg": 0.25,
            }
        ),
        json.dumps({"reference": "R2", "ean": gtin13(2), "names": {"it": "Coltello"}, "vat_class": "standard"}),
        json.dumps({"reference": "R3", "ean": gtin13(3)})[:30],
        json.dumps({"reference": "R4", "ean": gtin13(4), "names": "Knife", "vat_class": "standard"}),
    ]
    (tmp_path / "products.jsonl").write_text("\n".join(lines) + "\n")
    drop = read(tmp_path)
    assert sorted((r.source, r.line, r.field, r.rule) for r in drop.rejections) == [
        ("products.jsonl", 2, "name_en", "missing_name"),
        ("products.jsonl", 3, None, "invalid_json"),
        ("products.jsonl", 4, "names", "invalid_json"),
    ]
    row = loaded(drop).iloc[0]
    assert (row["reference"], row["name_it"], row["images"], row["weight_kg"]) == (
        "R1",
        "Coltello",
        "https://img.example/1.jpg",
        "0.250",
    )


def test_the_content_hash_changes_with_any_field_the_price_the_stock_and_the_rules(tmp_path):
    def content_hash(folder, **options):
        products, prices, stock = drop_files(folder)
        (folder / "spill").mkdir(exist_ok=True)
        drop = read_drop(products, prices, stock, {}, folder / "spill", ReadOptions(**options))
        return loaded(drop)["content_hash"].tolist()

    base = content_hash(write_drop(tmp_path / "base", [product(1)]))
    assert content_hash(write_drop(tmp_path / "same", [product(1)])) == base
    assert content_hash(write_drop(tmp_path / "text", [product(1, description_en="A KNIFE.")])) != base
    assert content_hash(write_drop(tmp_path / "cost", [product(1)], prices=["R1;10.01;24.99"])) != base
    assert content_hash(write_drop(tmp_path / "stock", [product(1)], stock=["R1;6"])) != base
    assert content_hash(tmp_path / "base", default_language="it") != base
    assert content_hash(write_drop(tmp_path / "order", [product(1)], header=HEADER[::-1])) != base


def test_unchanged_products_are_neither_validated_again_nor_kept_for_writing(tmp_path, monkeypatch):
    folder = write_drop(tmp_path, [product(1), product(2), product(3, ean="1")])
    first = read(folder)
    stored = dict(zip(loaded(first)["reference"], loaded(first)["content_hash"], strict=True))
    validated = []
    from mip.catalog import validate

    check = validate.products
    monkeypatch.setattr(
        validate, "products", lambda frame, *a: validated.extend(frame["reference"]) or check(frame, *a)
    )
    again = read(folder, stored=stored)
    assert loaded(again).empty and again.loaded == 2
    assert validated == ["R3"]  # only the line that was not stored as it is
    assert [r.rule for r in again.rejections] == ["gtin_format"]  # bad lines are reported every time
    stored["R2"] = "something else"
    assert list(loaded(read(folder, stored=stored))["reference"]) == ["R2"]


def test_vectorised_gtin_check_agrees_with_stdnum():
    rng = random.Random(1)
    numbers = [gtin13(rng.randrange(10**6)) for _ in range(300)]
    numbers += [n[:-1] + str((int(n[-1]) + rng.randrange(1, 10)) % 10) for n in numbers[:300]]
    numbers += [n[1:] for n in numbers[:100]]  # 12 digits: UPC-A candidates
    values = pd.Series(numbers, dtype=object)
    checked = gtin.check_column(values)
    for number, valid, digit in zip(numbers, checked.valid, checked.expected.tolist(), strict=True):
        assert valid == ean.is_valid(number), number
        if not valid:
            assert digit == ean.calc_check_digit(number.zfill(13)[:-1])
    assert all(len(v) == 13 for v in checked.gtin13)


def test_table_rows_hold_texts_by_language_as_json(tmp_path):
    from datetime import UTC, datetime

    frame = loaded(read(write_drop(tmp_path, [product(1, name_de="")])))
    rows = normalise.table_rows(frame, source_file="products.csv", catalog_version="7", loaded_at=datetime.now(UTC))
    row = rows.iloc[0]
    assert row["names"] == '{"it": "Coltello 1", "en": "Knife 1"}'
    assert row["images"] == '["https://img.example/1/1.jpg", "https://img.example/1/2.jpg"]'
    assert row["catalog_version"] == "7" and row["removed_at"] is None
