"""The gate runner and the publishing suites: a failing row for each expectation, the verdict, records."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mip.quality.checks import gtin_checksum
from mip.quality.gate import GateError, GateFailed, run_gate
from mip.quality.suites import SuiteError, load_suite
from tests.publish.conftest import ean13

GOOD = {
    "sku": "MIP-GOOD",
    "ean": ean13("800123456789"),
    "item_name": "Coltello",
    "brand": "Lumera",
    "image_count": 2,
    "cost_price": 10.0,
    "quantity": 5,
}
# one row failing each expectation of catalog_offer (rule -> row)
OFFER_FAILURES = {
    "expect_column_values_to_match_regex(sku)": {"sku": "MIP-" + "X" * 37},
    "expect_column_values_to_not_be_null(ean)": {"ean": None},
    "gtin_checksum(ean)": {"ean": "8001234567891"},
    "expect_column_values_to_not_be_null(item_name)": {"item_name": None},
    "expect_column_value_lengths_to_be_between(item_name)": {"item_name": "T" * 201},
    "expect_column_values_to_not_be_null(brand)": {"brand": None},
    "expect_column_values_to_be_between(image_count)": {"image_count": 0},
    "expect_column_values_to_not_be_null(cost_price)": {"cost_price": None},
    "expect_column_values_to_be_between(cost_price)": {"cost_price": 0.0},
    "expect_column_values_to_be_between(quantity)": {"quantity": -1},
}
PRICE_FAILURES = {
    "expect_column_values_to_not_be_null(price)": {"price": None},
    "expect_column_values_to_be_between(price)": {"price": -1.0, "floor_price": -2.0},
    "expect_column_pair_values_a_to_be_greater_than_b(price,floor_price)": {"price": 9.99, "floor_price": 10.5},
    "expect_column_values_to_be_between(price_change_percent)": {"price_change_percent": 80.0},
}


def offer_frame(extra_good: int = 0) -> pd.DataFrame:
    rows = [dict(GOOD, sku=f"MIP-GOOD{i}") for i in range(1 + extra_good)]
    rows += [
        dict(GOOD, sku=f"MIP-BAD{i}", **change) if "sku" not in change else dict(GOOD, **change)
        for i, change in enumerate(OFFER_FAILURES.values())
    ]
    return pd.DataFrame(rows)


def gate(db, suite, frame, *, threshold=0.05, run_id="run-1", source="test:gate", **kwargs):
    return run_gate(
        db,
        suite,
        frame,
        key_column="sku",
        source=source,
        dag_id="test_dag",
        run_id=run_id,
        task_id="gate",
        max_failed_fraction=threshold,
        **kwargs,
    )


def rejected(db, source="test:gate", run_id="run-1") -> dict[str, list[tuple]]:
    rows = db.execute(
        "SELECT rule, record_key, field, value, message FROM mip.rejected_rows "
        "WHERE source = %s AND run_id = %s ORDER BY id",
        (source, run_id),
    ).fetchall()
    by_rule: dict[str, list[tuple]] = {}
    for rule, *rest in rows:
        by_rule.setdefault(rule, []).append(tuple(rest))
    return by_rule


def test_gtin_checksum_is_vectorised_over_upc_a_and_ean_13_only():
    values = pd.Series(
        [
            ean13("800123456789"),
            "8001234567891",
            "036000291452",
            "96385074",  # a valid EAN-8: not a length MIP accepts (mip.gtin)
            "10036000291459",  # a valid GTIN-14: likewise
            "12345",
            "80012345678a",
            None,
            " " + ean13("400638133393") + " ",
        ]
    )
    assert gtin_checksum(values).tolist() == [True, False, True, False, False, False, False, None, True]


def test_each_catalog_offer_expectation_rejects_its_row(db):
    result = gate(db, "catalog_offer", offer_frame())
    found = rejected(db)
    assert set(found) == set(OFFER_FAILURES)
    for rule in OFFER_FAILURES:
        assert len(found[rule]) == 1, (rule, found[rule])
        key, field, _, message = found[rule][0]
        assert key.startswith("MIP-") and message and field
    # the GTIN failure is reported on the EAN itself, with its value
    assert found["gtin_checksum(ean)"][0][1:3] == ("ean", "8001234567891")
    assert found["expect_column_values_to_be_between(quantity)"][0][2] == "-1"
    assert result.evaluated_rows == 11 and result.unexpected_rows == 10
    assert result.passing["sku"].tolist() == ["MIP-GOOD0"]
    assert not result.passed
    with pytest.raises(GateFailed) as failed:
        result.raise_for_verdict()
    message = str(failed.value)
    assert "gate catalog_offer: 10 of 11 rows (90.91%) failed, above the threshold of 5.00%" in message
    assert "Top failing expectations:" in message and "mip.rejected_rows (source 'test:gate'" in message
    stored = db.execute(
        "SELECT success, evaluated_rows, unexpected_rows, failing_expectations FROM "
        "mip.quality_results WHERE suite = 'catalog_offer' AND run_id = 'run-1'"
    ).fetchall()
    assert len(stored) == 1
    success, evaluated, unexpected, failing = stored[0]
    assert (success, evaluated, unexpected) == (False, 11, 10)
    assert {f["rule"] for f in failing} == set(OFFER_FAILURES)
    assert all(f["unexpected_count"] == 1 and f["examples"] for f in failing)


def test_the_threshold_decides_and_a_rerun_replaces_what_was_recorded(db):
    frame = offer_frame(extra_good=300)  # 10 bad of 311 = 3.2%
    result = gate(db, "catalog_offer", frame, run_id="run-2")
    assert result.passed and result.unexpected_rows == 10 and len(result.passing) == 301
    assert "within the threshold of 5.00%" in result.message()
    result.raise_for_verdict()
    assert not gate(db, "catalog_offer", frame, run_id="run-2", threshold=0.01).passed
    # the second attempt replaced the first: one quality result, one rejected row per failure
    assert db.execute("SELECT count(*) FROM mip.quality_results WHERE run_id = 'run-2'").fetchone()[0] == 1
    assert sum(len(v) for v in rejected(db, run_id="run-2").values()) == 10


def test_each_price_expectation_rejects_its_row(db):
    good = {"sku": "MIP-OK", "price": 19.99, "floor_price": 15.0, "price_change_percent": 5.0}
    rows = [good] + [dict(good, sku=f"MIP-P{i}", **change) for i, change in enumerate(PRICE_FAILURES.values())]
    result = gate(db, "price", pd.DataFrame(rows), run_id="run-3", parameters={"max_price_change_percent": 50})
    found = rejected(db, run_id="run-3")
    assert set(found) == set(PRICE_FAILURES)
    assert (
        found["expect_column_pair_values_a_to_be_greater_than_b(price,floor_price)"][0][2]
        == "price=9.99, floor_price=10.5"
    )
    assert result.passing["sku"].tolist() == ["MIP-OK"]
    # the bound is a suite parameter: 80% passes when the channel allows 100%
    relaxed = gate(db, "price", pd.DataFrame(rows), run_id="run-3", parameters={"max_price_change_percent": 100})
    assert "expect_column_values_to_be_between(price_change_percent)" not in {o.rule for o in relaxed.failing}


def test_an_empty_frame_passes_and_is_recorded(db):
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in GOOD})
    result = gate(db, "catalog_offer", empty, run_id="run-4")
    assert result.passed and result.evaluated_rows == 0 and result.passing.empty
    assert db.execute("SELECT success FROM mip.quality_results WHERE run_id = 'run-4'").fetchone() == (True,)


def test_missing_columns_and_unknown_suites_are_clear_errors(db):
    with pytest.raises(GateError, match=r"reads columns \['brand'\] that the frame lacks"):
        gate(db, "catalog_offer", offer_frame().drop(columns=["brand"]))
    with pytest.raises(SuiteError, match=r"no such suite .*known suites: .*catalog_offer"):
        load_suite("no_such_suite")


def test_suites_are_valid_json_with_a_message_for_every_expectation():
    for name in ("catalog_offer", "price"):
        suite = load_suite(name)
        raw = json.loads(suite.path.read_text())
        assert raw["meta"]["description"]
        assert all(e["meta"]["message"] for e in suite.expectations)


def test_many_rows_pass_through_quickly(db):
    n = 50_000
    frame = pd.DataFrame({**{k: [v] * n for k, v in GOOD.items()}, "sku": [f"MIP-{i}" for i in range(n)]})
    frame.loc[np.arange(0, n, 1000), "cost_price"] = -1.0
    result = gate(db, "catalog_offer", frame, run_id="run-5")
    assert result.unexpected_rows == 50 and len(result.passing) == n - 50 and result.passed
