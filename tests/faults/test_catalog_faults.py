"""Malformed supplier rows through ``dag.test()`` of ``mip_catalog_sync``: a drop from the sandbox's catalog
generator (wrong GTIN check digits, Latin-1 bytes in the UTF-8 file, zero and negative costs, duplicated
references, lines with another column count, decimal commas, missing names) plus negative stock lines
added here; mip.rejected_rows must equal the generator's manifest, mip.supplier_products its good products."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from mip.airflow.pipelines.catalog_sync import DAG_ID
from sandbox import catalog
from tests.dags.conftest import task_states
from tests.faults.conftest import FaultRow

REQUIRED = {
    "gtin_checksum",
    "broken_encoding",
    "non_positive_cost",
    "duplicate_reference",
    "column_count",
    "negative_stock",
}


def make_stock_negative(folder, references: list[str]) -> list[catalog.BadRow]:
    """Give ``references`` a negative stock in stock.csv; returns the lines the ingest must reject."""
    path = folder / "stock.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    reference_column = lines[0].split(";").index("reference")
    bad = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(";")
        if line and fields[reference_column] in references:
            stock_column = 1 - reference_column
            fields[stock_column] = "-4"
            lines[number - 1] = ";".join(fields)
            bad.append(catalog.BadRow("stock.csv", number, fields[reference_column], "stock", "negative_stock"))
    path.write_text("\n".join(lines), encoding="utf-8")
    return bad


def test_malformed_supplier_rows_are_rejected_with_their_reason_and_the_rest_loads(
    clean_catalog, run_dag, imports_dir, fault_table
):
    db = clean_catalog
    folder = imports_dir / "drop"
    manifest = catalog.write_catalog(folder, count=400, seed=41)
    good = {p.reference: p for p in catalog.list_products(folder)}
    negative = make_stock_negative(folder, sorted(good)[:3])
    expected_rows = {(b.file, b.line, b.reference, b.field, b.rule) for b in [*manifest, *negative]}
    expected_products = {
        ref: (p.ean.zfill(13), p.brand) for ref, p in good.items() if ref not in {b.reference for b in negative}
    }

    dag_run = run_dag(DAG_ID, logical_date=datetime(2026, 9, 1, 10, tzinfo=UTC), conf={"supplier_dir": str(folder)})
    stored_rows = set(
        db.execute(
            "SELECT source, line, record_key, field, rule FROM mip.rejected_rows WHERE run_id = %s", (dag_run.run_id,)
        ).fetchall()
    )
    stored_products = {
        ref: (ean, brand)
        for ref, ean, brand in db.execute(
            "SELECT reference, ean, brand FROM mip.supplier_products WHERE removed_at IS NULL"
        )
    }
    by_rule = Counter(rule for *_, rule in stored_rows)
    fault_table(
        FaultRow(
            "malformed supplier rows",
            1,
            None,
            None,
            None,
            f"{len(stored_rows)}: "
            + ", ".join(f"{rule} {n}" for rule, n in sorted(by_rule.items()))
            + f"; {len(stored_products)} products loaded",
        )
    )

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert set(by_rule) >= REQUIRED, f"every kind of defect must be in the drop: {by_rule}"
    assert stored_rows == expected_rows, (
        sorted(stored_rows - expected_rows)[:5],
        sorted(expected_rows - stored_rows)[:5],
    )
    assert stored_products == expected_products
    messages = dict(
        db.execute("SELECT rule, message FROM mip.rejected_rows WHERE run_id = %s", (dag_run.run_id,)).fetchall()
    )
    assert all(message for message in messages.values()), "every rejection says why"
