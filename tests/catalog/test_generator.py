"""The supplier catalog generator (sandbox/catalog.py): deterministic, realistic, known bad rows."""

from __future__ import annotations

import csv
import json

from stdnum import ean

from sandbox import catalog


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path):
    catalog.write_catalog(tmp_path / "a", count=300, seed=7)
    catalog.write_catalog(tmp_path / "b", count=300, seed=7)
    catalog.write_catalog(tmp_path / "c", count=300, seed=8)
    for name in ("products.csv", "prices.csv", "stock.csv", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "products.csv").read_bytes() != (tmp_path / "c" / "products.csv").read_bytes()


def test_good_products_are_realistic():
    generated = catalog.generate(2000, seed=3)
    good = [p for p in generated.products if not p.defect]
    assert len({p.reference for p in good}) == len(good)
    assert len({p.ean for p in good}) == len(good)
    assert all(ean.is_valid(p.ean) and len(p.ean) in (12, 13) for p in good)
    assert 0.02 < sum(len(p.ean) == 12 for p in good) / len(good) < 0.1  # some UPC-A codes
    assert all(1 <= float(p.cost_price) <= 400 for p in good)
    assert all(float(p.retail_price) > float(p.cost_price) for p in good)
    assert all(0 <= int(p.stock) <= 500 for p in good)
    assert any(p.stock == "0" for p in good)
    assert all(p.names["en"] and p.category.count(" > ") >= 1 for p in good)
    assert max(p.category.count(" > ") for p in good) >= 3  # several levels
    assert all(p.images and all(url.startswith("https://") for url in p.images) for p in good)
    assert {p.vat_class for p in good} == {"standard", "reduced", "super_reduced"}
    assert len({p.brand for p in good}) > 15
    assert any(not p.names["fr"] for p in good)  # partial translations are not defects
    german = next(p for p in good if p.category.endswith("Knives"))
    assert "Kochmesser" in german.names["de"] and "Coltello" in german.names["it"]


def test_about_half_a_percent_of_products_carry_each_kind_of_defect(tmp_path):
    bad = catalog.write_catalog(tmp_path, count=5000, seed=1)
    defective_products = {b.reference for b in bad}
    assert 0.004 <= len(defective_products) / 5000 <= 0.006
    assert {b.rule for b in bad} == set(catalog.DEFECTS)
    assert [catalog.BadRow(**entry) for entry in json.loads((tmp_path / "manifest.json").read_text())] == bad
    duplicated = [b for b in bad if b.rule == "duplicate_reference"]
    assert len(duplicated) == 2 * len({b.reference for b in duplicated})  # the original line and the copy


def test_the_manifest_points_at_the_lines_it_describes(tmp_path):
    bad = catalog.write_catalog(tmp_path, count=1000, seed=2)
    raw = (tmp_path / "products.csv").read_bytes().split(b"\n")
    prices = (tmp_path / "prices.csv").read_text().split("\n")
    header = raw[0].decode().split(";")
    for row in bad:
        if row.file == "prices.csv":
            reference, cost, _ = prices[row.line - 1].split(";")
            assert reference == row.reference and float(cost) <= 0
            continue
        line = raw[row.line - 1]
        assert line.startswith(row.reference.encode() + b";")
        if row.rule == "broken_encoding":
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                raise AssertionError(f"line {row.line} decodes as UTF-8")
            continue
        fields = next(csv.reader([line.decode()], delimiter=";"))
        if row.rule == "column_count":
            assert len(fields) == len(header) - 1
        elif row.rule == "gtin_checksum":
            assert not ean.is_valid(fields[header.index("ean")])
        elif row.rule == "missing_name":
            assert fields[header.index("name_en")] == "" and fields[header.index("name_it")]
        elif row.rule == "unparsable_number":
            assert "," in fields[header.index("weight_kg")]


def test_jsonl_holds_the_same_products_with_names_by_language(tmp_path):
    bad = catalog.write_catalog(tmp_path, count=400, seed=4, fmt="jsonl")
    assert not (tmp_path / "products.csv").exists()
    lines = (tmp_path / "products.jsonl").read_bytes().splitlines()
    bad_lines = {b.line for b in bad if b.file == "products.jsonl"}
    first = json.loads(next(line for number, line in enumerate(lines, 1) if number not in bad_lines))
    assert set(first["names"]) <= set(catalog.LANGUAGES) and isinstance(first["images"], list)
    assert isinstance(first["weight_kg"], float)
    assert {b.rule for b in bad} == (set(catalog.DEFECTS) - {"column_count"}) | {"invalid_json"}
    summaries = catalog.list_products(tmp_path)
    assert [s.reference for s in summaries] == [s.reference for s in catalog.generate(400, seed=4).summaries()]


def test_without_bad_rows_every_line_is_good(tmp_path):
    assert catalog.write_catalog(tmp_path, count=500, seed=5, bad_rows=False) == []
    assert len(catalog.list_products(tmp_path)) == 500


def test_list_products_gives_reference_ean_brand_and_names_of_good_products(tmp_path):
    catalog.write_catalog(tmp_path, count=300, seed=6)
    listed = catalog.list_products(tmp_path)
    expected = catalog.generate(300, seed=6).summaries()
    assert listed == expected
    assert all(p.names["en"] and p.brand for p in listed)


def test_mutate_changes_exactly_what_it_reports(tmp_path):
    catalog.write_catalog(tmp_path, count=1000, seed=9)
    before_prices = _column(tmp_path / "prices.csv", "cost_price")
    before_stock = _column(tmp_path / "stock.csv", "stock")
    mutation = catalog.mutate(tmp_path, fraction=0.05, seed=1)
    after_prices = _column(tmp_path / "prices.csv", "cost_price")
    after_stock = _column(tmp_path / "stock.csv", "stock")
    assert len(mutation.changed) == 50 and len(mutation.removed) == 5
    assert not set(mutation.removed) & mutation.changed
    assert set(after_prices) == set(before_prices) - set(mutation.removed)
    assert {r for r in after_prices if after_prices[r] != before_prices[r]} == set(mutation.cost_changed)
    assert {r for r in after_stock if after_stock[r] != before_stock[r]} == set(mutation.stock_changed)
    assert not set(mutation.removed) & {p.reference for p in catalog.list_products(tmp_path)}
    # the manifest still points at the bad lines after lines above them went
    test_lines = (tmp_path / "products.csv").read_bytes().split(b"\n")
    for row in catalog.read_manifest(tmp_path):
        if row.file == "products.csv":
            assert test_lines[row.line - 1].startswith(row.reference.encode() + b";")


def _column(path, name) -> dict[str, str]:
    with path.open(newline="") as handle:
        return {row["reference"]: row[name] for row in csv.DictReader(handle, delimiter=";")}
