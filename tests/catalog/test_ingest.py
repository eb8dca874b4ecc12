"""Catalog ingest on the real PostgreSQL with generated drops (sandbox/catalog.py)."""

from __future__ import annotations

import json
import shutil

import pytest

from mip.catalog.ingest import IngestOptions, ingest_directory
from sandbox import catalog

COUNT = 1200


def ingest(db, folder, run_id=None, **options):
    result = ingest_directory(db, folder, run_id=run_id, options=IngestOptions(**options))
    db.commit()
    return result


def rejected(db, run_id) -> set[tuple]:
    rows = db.execute(
        "SELECT source, line, record_key, field, rule FROM mip.rejected_rows WHERE run_id = %s", (run_id,)
    ).fetchall()
    assert len(rows) == len(set(rows))
    return set(rows)


def manifest(bad) -> set[tuple]:
    return {(b.file, b.line, b.reference, b.field, b.rule) for b in bad}


def versions_of_rows(db) -> dict[str, tuple]:
    """reference -> (row version xmin, catalog_version, removed_at): xmin changes when a row is rewritten."""
    return {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT reference, xmin::text, catalog_version, removed_at FROM mip.supplier_products"
        ).fetchall()
    }


@pytest.fixture
def loaded_catalog(clean_catalog, tmp_path):
    """A generated catalog of COUNT products, ingested once."""
    folder = tmp_path / "supplier"
    bad = catalog.write_catalog(folder, count=COUNT, seed=11)
    result = ingest(clean_catalog, folder, run_id="load")
    return folder, bad, result


def test_a_generated_catalog_loads_every_good_product_and_rejects_exactly_its_bad_lines(loaded_catalog, db):
    _, bad, result = loaded_catalog
    good = catalog.generate(COUNT, seed=11).summaries()
    assert result.status == "loaded" and result.changed
    assert result.loaded == result.inserted == len(good) == COUNT - len({b.reference for b in bad})
    assert rejected(db, "load") == manifest(bad)
    assert result.rejected_rows == len(bad)
    stored = db.execute(
        "SELECT reference, ean, brand, names, removed_at, catalog_version FROM mip.supplier_products ORDER BY reference"
    ).fetchall()
    assert [r[0] for r in stored] == sorted(p.reference for p in good)
    by_reference = {p.reference: p for p in good}
    for reference, ean13, brand, names, removed_at, version in stored:
        product = by_reference[reference]
        assert ean13 == product.ean.zfill(13) and brand == product.brand and names == product.names
        assert removed_at is None and version == str(result.version_id)
    version = db.execute(
        "SELECT status, changed, records, loaded, rejected_rows, inserted, checksum, rejected_by_rule"
        " FROM mip.catalog_versions WHERE id = %s",
        (result.version_id,),
    ).fetchone()
    assert version[:7] == ("loaded", True, result.records, result.loaded, len(bad), result.inserted, result.checksum)
    assert sum(version[7].values()) == len(bad)
    message = db.execute(
        "SELECT message FROM mip.rejected_rows WHERE run_id = 'load' AND rule = 'gtin_checksum' LIMIT 1"
    ).fetchone()[0]
    assert message.startswith("products.csv line ") and "field ean, rule gtin_checksum: value '" in message


def test_a_rerun_rewrites_nothing(loaded_catalog, db):
    folder, _, first = loaded_catalog
    before = versions_of_rows(db)
    skipped = ingest(db, folder, run_id="again")
    assert (skipped.status, skipped.changed, skipped.version_id) == ("unchanged", False, first.version_id)
    forced = ingest(db, folder, run_id="forced", force=True)
    assert (forced.status, forced.changed) == ("loaded", False)
    assert (forced.inserted, forced.updated, forced.removed, forced.unchanged) == (0, 0, 0, first.loaded)
    assert versions_of_rows(db) == before  # not one row rewritten


def test_a_mutation_updates_exactly_the_mutated_products_and_marks_the_removed_ones(loaded_catalog, db):
    folder, _, _ = loaded_catalog
    before = versions_of_rows(db)
    mutation = catalog.mutate(folder, fraction=0.02, seed=4)
    result = ingest(db, folder, run_id="mutated")
    assert result.changed and result.inserted == 0
    assert result.updated == len(mutation.changed) == 24 and result.removed == len(mutation.removed)
    after = versions_of_rows(db)
    rewritten = {r for r in after if after[r][0] != before[r][0]}
    assert rewritten == mutation.changed | set(mutation.removed)
    assert {r for r in after if after[r][1] == str(result.version_id)} == mutation.changed
    assert {r for r in after if after[r][2] is not None} == set(mutation.removed)
    assert rejected(db, "mutated") == manifest(catalog.read_manifest(folder))  # bad lines moved up, still found
    costs = dict(
        db.execute(
            "SELECT reference, cost_price::text FROM mip.supplier_products WHERE reference = ANY(%s)",
            (mutation.cost_changed,),
        ).fetchall()
    )
    prices = {line.split(";")[0]: line.split(";")[1] for line in (folder / "prices.csv").read_text().splitlines()}
    assert costs == {r: prices[r] for r in mutation.cost_changed}


def test_a_removed_product_that_comes_back_is_in_the_catalog_again(loaded_catalog, db, tmp_path):
    folder, _, _ = loaded_catalog
    original = tmp_path / "original"
    shutil.copytree(folder, original)
    gone = catalog.list_products(folder)[0].reference
    for name in ("products.csv", "prices.csv", "stock.csv"):
        path = folder / name
        path.write_bytes(
            b"".join(
                line
                for line in path.read_bytes().splitlines(keepends=True)
                if not line.startswith(gone.encode() + b";")
            )
        )
    result = ingest(db, folder, run_id="gone")
    assert (result.removed, result.updated) == (1, 0)
    assert db.execute(
        "SELECT removed_at IS NOT NULL FROM mip.supplier_products WHERE reference = %s", (gone,)
    ).fetchone() == (True,)
    back = ingest(db, original, run_id="back")
    assert (back.removed, back.updated, back.inserted) == (0, 1, 0)
    assert db.execute("SELECT removed_at FROM mip.supplier_products WHERE reference = %s", (gone,)).fetchone() == (
        None,
    )


def test_the_same_catalog_as_json_lines_loads_the_same_products(loaded_catalog, db, tmp_path):
    _, _, first = loaded_catalog
    jsonl = tmp_path / "jsonl"
    bad = catalog.write_catalog(jsonl, count=COUNT, seed=11, fmt="jsonl")
    content = (
        "SELECT reference, ean, brand, category_path, names, descriptions, images, cost_price, retail_price,"
        " vat_class, stock, weight_kg, length_cm, width_cm, height_cm, removed_at FROM mip.supplier_products"
        " ORDER BY reference"
    )
    before = db.execute(content).fetchall()
    result = ingest(db, jsonl, run_id="jsonl")
    assert (result.status, result.products_file, result.loaded) == ("loaded", "products.jsonl", first.loaded)
    assert (result.inserted, result.removed) == (0, 0)  # the format switch rewrites each product once...
    assert db.execute(content).fetchall() == before  # ...with the same content
    assert rejected(db, "jsonl") == manifest(bad)
    again = ingest(db, jsonl, run_id="jsonl-again", force=True)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.loaded)


def test_a_product_whose_line_turns_bad_keeps_its_stored_row(loaded_catalog, db):
    folder, _, _ = loaded_catalog
    product = catalog.list_products(folder)[0]
    before = versions_of_rows(db)[product.reference]
    path = folder / "products.csv"
    path.write_bytes(
        path.read_bytes().replace(
            f"{product.reference};{product.ean};".encode(), f"{product.reference};{product.ean[:-1]}X;".encode()
        )
    )
    result = ingest(db, folder, run_id="turned-bad")
    assert (result.updated, result.removed) == (0, 0)
    assert versions_of_rows(db)[product.reference] == before
    found = {(r[0], r[2], r[4]) for r in rejected(db, "turned-bad")}
    assert ("products.csv", product.reference, "gtin_format") in found


def test_a_drop_with_too_many_bad_lines_is_refused_and_changes_no_product(loaded_catalog, db):
    folder, _, _ = loaded_catalog
    before = versions_of_rows(db)
    lines = (folder / "prices.csv").read_text().splitlines()
    broken = [line if k % 12 or k == 0 else line.replace(";", ";-", 1) for k, line in enumerate(lines)]  # cost < 0
    (folder / "prices.csv").write_text("\n".join(broken) + "\n")
    catalog.mutate(folder, fraction=0.05, seed=2)  # real changes that must not be applied either
    result = ingest(db, folder, run_id="refused")
    assert result.status == "refused" and not result.changed
    assert "product lines" in result.reason and "more than the 5.0% allowed" in result.reason
    assert versions_of_rows(db) == before
    assert result.rejected_by_rule["non_positive_cost"] >= 90
    assert len(rejected(db, "refused")) == result.rejected_rows
    status = db.execute("SELECT status, reason FROM mip.catalog_versions WHERE id = %s", (result.version_id,))
    assert status.fetchone() == ("refused", result.reason)
    assert ingest(db, folder, run_id="lenient", max_rejected_fraction=0.2).status == "loaded"


def test_a_truncated_drop_is_refused_instead_of_emptying_the_catalog(loaded_catalog, db):
    folder, _, _ = loaded_catalog
    before = versions_of_rows(db)
    path = folder / "products.csv"
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:300]))
    result = ingest(db, folder, run_id="truncated")
    assert result.status == "refused" and "would remove" in result.reason
    assert versions_of_rows(db) == before


def test_an_empty_drop_is_refused(clean_catalog, tmp_path):
    catalog.write_catalog(tmp_path, count=0)
    result = ingest(clean_catalog, tmp_path, run_id="empty")
    assert result.status == "refused" and "no product lines" in result.reason


def test_a_retried_run_records_its_rejections_once(loaded_catalog, db):
    folder, bad, _ = loaded_catalog
    for _ in range(2):
        ingest(db, folder, run_id="retried", force=True)
    count = db.execute("SELECT count(*) FROM mip.rejected_rows WHERE run_id = 'retried'").fetchone()[0]
    assert count == len(bad)


def test_the_result_is_json_serialisable_for_xcom(loaded_catalog):
    _, _, result = loaded_catalog
    assert json.loads(json.dumps(result.to_dict()))["inserted"] == result.inserted
