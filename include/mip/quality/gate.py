"""The gate runner: validate a frame against a suite, record the verdict and the failing rows.

Speed (200,000 rows): one in-memory batch, great-expectations' ``COMPLETE`` result format with
``unexpected_index_column_names`` (a row-number column, so failing rows map back to their keys
without a second pass and without GX building "unexpected index queries"), no data docs, no stores
on disk, no progress bars, no analytics. The frame handed to GX holds only the columns the suite
reads.

A row failing any row-level expectation is rejected (kept in ``mip.rejected_rows``, one row per
failed expectation) and left out of ``GateResult.passing``; the gate as a whole passes while the
share of rejected rows is at most ``max_failed_fraction`` and no table-level expectation failed. The
caller fails its task on ``GateResult.raise_for_verdict()``. Re-running a gate for the same run and
task replaces what it recorded before.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import sys
import types
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mip.quality.suites import Suite, load_suite
from mip.store.bulk import copy_rows

if TYPE_CHECKING:
    import pandas as pd
    import psycopg

ROW = "__row__"
MAX_EXAMPLES = 5
MAX_VALUE_CHARS = 500


class GateError(RuntimeError):
    """The suite could not be evaluated on this frame (a missing column, a broken expectation)."""


class GateFailed(RuntimeError):
    """The gate's verdict: too many rows failed, or a table-level expectation failed."""


@dataclass(frozen=True)
class ExpectationOutcome:
    rule: str  # "<expectation type>(<column>)", or "<check>(<column>)" for a derived column
    expectation: str
    column: str | None
    success: bool
    row_level: bool
    unexpected: int
    examples: tuple[tuple[str, str | None], ...] = ()
    observed: Any = None  # table-level expectations: GX's observed value

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "expectation": self.expectation,
            "column": self.column,
            "unexpected_count": self.unexpected,
            "examples": [{"key": key, "value": value} for key, value in self.examples],
            **({"observed": _plain(self.observed)} if not self.row_level else {}),
        }


@dataclass
class GateResult:
    suite: str
    source: str
    run_id: str | None
    evaluated_rows: int
    unexpected_rows: int
    max_failed_fraction: float
    outcomes: tuple[ExpectationOutcome, ...]
    passing: pd.DataFrame
    failed_keys: list[Any] = field(default_factory=list)

    @property
    def failed_fraction(self) -> float:
        return self.unexpected_rows / self.evaluated_rows if self.evaluated_rows else 0.0

    @property
    def failing(self) -> list[ExpectationOutcome]:
        """Failed expectations, most failing rows first (table-level failures first of all)."""
        failed = [o for o in self.outcomes if not o.success]
        return sorted(failed, key=lambda o: (o.row_level, -o.unexpected, o.rule))

    @property
    def passed(self) -> bool:
        table_failed = any(not o.row_level for o in self.failing)
        return not table_failed and self.failed_fraction <= self.max_failed_fraction

    def message(self) -> str:
        head = (
            f"gate {self.suite}: {self.unexpected_rows:,} of {self.evaluated_rows:,} rows "
            f"({self.failed_fraction:.2%}) failed"
        )
        if self.passed:
            head += f", within the threshold of {self.max_failed_fraction:.2%}"
        else:
            table = [o.rule for o in self.failing if not o.row_level]
            head += (
                f"; table expectations failed: {', '.join(table)}"
                if table
                else f", above the threshold of {self.max_failed_fraction:.2%}"
            )
        tops = []
        for outcome in self.failing[:5]:
            if outcome.row_level:
                example = "; ".join(f"{key}: {value!r}" for key, value in outcome.examples[:2])
                tops.append(f"{outcome.rule} {outcome.unexpected:,} rows (e.g. {example})")
            else:
                tops.append(f"{outcome.rule} (observed {_plain(outcome.observed)!r})")
        if tops:
            head += ". Top failing expectations: " + "; ".join(tops)
            head += f". Failing rows: mip.rejected_rows (source {self.source!r}, run_id {self.run_id!r})"
        return head

    def summary(self) -> dict[str, Any]:
        """Small enough for XCom."""
        return {
            "suite": self.suite,
            "passed": self.passed,
            "evaluated_rows": self.evaluated_rows,
            "rejected_rows": self.unexpected_rows,
            "failing": {o.rule: o.unexpected for o in self.failing},
        }

    def raise_for_verdict(self) -> None:
        if not self.passed:
            raise GateFailed(self.message())


def _plain(value: Any) -> Any:
    """numpy scalars -> Python, NaN -> None (for JSON and messages)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _text(value: Any) -> str | None:
    value = _plain(value)
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text[:MAX_VALUE_CHARS]


def _expectation_columns(kwargs: dict[str, Any]) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list", []))


# great-expectations imports these at import time but uses them only inside functions MIP's suites never
# call (charts in renderers, the distribution expectations): loaded lazily, they cost a gate task nothing.
GX_UNUSED_IMPORTS = ("altair", "scipy.stats")


class _Deferred(types.ModuleType):
    """Stands in for a module until one of its attributes is used, then imports it and delegates to it.

    (``importlib.util.LazyLoader`` does not help here: the ``import`` statement itself reads the
    module's ``__spec__``, which loads a lazy module at once.)"""

    def __getattr__(self, attribute: str) -> Any:
        real = self.__dict__.get("_real")
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = importlib.import_module(self.__name__)
            self.__dict__["_real"] = real
        return getattr(real, attribute)


def _defer(name: str) -> None:
    if name not in sys.modules and importlib.util.find_spec(name) is not None:
        sys.modules[name] = _Deferred(name)


@functools.cache
def _gx_context():
    """great-expectations and one ephemeral in-memory context per process (no project folder, no stores on
    disk, no analytics); each gate adds its own datasource to it."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    for name in GX_UNUSED_IMPORTS:
        _defer(name)
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        store_backend_defaults=InMemoryStoreBackendDefaults(),
    )
    return gx, gx.get_context(mode="ephemeral", project_config=config)


def _validate(suite: Suite, work: pd.DataFrame, parameters: dict[str, Any] | None) -> list[Any]:
    gx, context = _gx_context()
    batch_definition = (
        context.data_sources.add_or_update_pandas("mip")
        .add_dataframe_asset(suite.name)
        .add_batch_definition_whole_dataframe("frame")
    )
    batch = batch_definition.get_batch(batch_parameters={"dataframe": work})
    expectations = [{key: e[key] for key in ("type", "kwargs", "meta") if key in e} for e in suite.expectations]
    gx_suite = gx.ExpectationSuite(name=suite.name, expectations=expectations)
    result = batch.validate(
        gx_suite,
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": [ROW],
            "return_unexpected_index_query": False,
            "partial_unexpected_count": MAX_EXAMPLES,
        },
        expectation_parameters=parameters or {},
    )
    return list(result.results)


def run_gate(
    conn: psycopg.Connection,
    suite: str,
    frame: pd.DataFrame,
    *,
    key_column: str,
    source: str,
    dag_id: str | None,
    run_id: str | None,
    task_id: str | None,
    max_failed_fraction: float,
    parameters: dict[str, Any] | None = None,
) -> GateResult:
    """Validate ``frame`` against suite ``suite``; record the result; return the verdict and passing rows.

    Writes one row to ``mip.quality_results`` and one row per (failing row, failed expectation) to
    ``mip.rejected_rows`` (``record_key`` = the row's ``key_column``), replacing what an earlier
    attempt of the same task recorded. ``parameters`` fill the suite's ``$PARAMETER`` values.
    """
    import numpy as np

    spec = load_suite(suite)
    work = _work_frame(spec, frame, key_column)
    outcomes: list[ExpectationOutcome] = []
    rejected: list[tuple[Any, ...]] = []
    failed_rows = np.zeros(len(work), dtype=bool)
    keys = work[key_column].to_numpy()
    results = _validate(spec, work, parameters) if len(work) else []
    for result in results:
        config = result.expectation_config
        if result.exception_info and result.exception_info.get("raised_exception"):
            raise GateError(
                f"suite {suite} ({spec.path}): {config.type} {dict(config.kwargs)} could not be evaluated: "
                f"{result.exception_info.get('exception_message')}"
            )
        columns = [c for c in _expectation_columns(config.kwargs) if c != "batch_id"]
        derived = spec.derived_source(columns[0]) if len(columns) == 1 else None
        column = derived.column if derived else (",".join(columns) or None)
        rule = f"{derived.check}({derived.column})" if derived else f"{config.type}({column or 'table'})"
        details = result.result or {}
        if "unexpected_index_list" not in details:
            outcomes.append(
                ExpectationOutcome(
                    rule,
                    config.type,
                    column,
                    bool(result.success),
                    False,
                    0 if result.success else 1,
                    observed=details.get("observed_value"),
                )
            )
            continue
        rows = np.fromiter((entry[ROW] for entry in details["unexpected_index_list"]), dtype=np.int64)
        values = _failed_values(work, rows, [derived.column] if derived else columns)
        message = (config.meta or {}).get("message") or f"{column}: {config.type} failed"
        for row, value in zip(rows.tolist(), values, strict=True):
            rejected.append((source, run_id, _text(keys[row]), column, rule, value, message))
        failed_rows[rows] = True
        examples = tuple((_text(keys[r]) or "", v) for r, v in zip(rows[:MAX_EXAMPLES].tolist(), values, strict=False))
        outcomes.append(ExpectationOutcome(rule, config.type, column, len(rows) == 0, True, len(rows), examples))
    if not results:  # an empty frame: nothing to validate, every expectation holds vacuously
        outcomes = [ExpectationOutcome(f"{e['type']}", e["type"], None, True, True, 0) for e in spec.expectations]

    gate = GateResult(
        suite=suite,
        source=source,
        run_id=run_id,
        evaluated_rows=len(work),
        unexpected_rows=int(failed_rows.sum()),
        max_failed_fraction=max_failed_fraction,
        outcomes=tuple(outcomes),
        passing=frame.iloc[np.flatnonzero(~failed_rows)],
        failed_keys=[_plain(k) for k in keys[failed_rows]],
    )
    _record(conn, gate, dag_id=dag_id, task_id=task_id, rejected=rejected)
    return gate


def _work_frame(spec: Suite, frame: pd.DataFrame, key_column: str) -> pd.DataFrame:
    """The columns the suite reads (and the key), its derived check columns and a row-number column."""
    import numpy as np

    from mip.quality.checks import CHECKS

    missing = sorted((spec.columns() | {key_column}) - set(frame.columns))
    if missing:
        raise GateError(
            f"suite {spec.name} ({spec.path}) reads columns {missing} that the frame lacks "
            f"(it has {sorted(map(str, frame.columns))})"
        )
    work = frame.loc[:, sorted(spec.columns() | {key_column})].reset_index(drop=True)
    for extra in spec.derived:
        work[extra.name] = CHECKS[extra.check](work[extra.column]).to_numpy()
    work[ROW] = np.arange(len(work), dtype=np.int64)
    return work


def _failed_values(work: pd.DataFrame, rows: Any, columns: list[str]) -> list[str | None]:
    """The failing rows' values of the expectation's columns, as text ("a=1, b=2" for several columns)."""
    if len(columns) == 1:
        return [_text(v) for v in work[columns[0]].to_numpy()[rows]]
    parts = [work[c].to_numpy()[rows] for c in columns]
    return [
        ", ".join(f"{c}={_plain(v)}" for c, v in zip(columns, row, strict=True)) for row in zip(*parts, strict=True)
    ]


def _record(
    conn: psycopg.Connection, gate: GateResult, *, dag_id: str | None, task_id: str | None, rejected: list[tuple]
) -> None:
    with conn.transaction():
        conn.execute(
            "DELETE FROM mip.quality_results WHERE suite = %s AND dag_id IS NOT DISTINCT FROM %s "
            "AND run_id IS NOT DISTINCT FROM %s AND task_id IS NOT DISTINCT FROM %s",
            (gate.suite, dag_id, gate.run_id, task_id),
        )
        conn.execute(
            "DELETE FROM mip.rejected_rows WHERE source = %s AND run_id IS NOT DISTINCT FROM %s",
            (gate.source, gate.run_id),
        )
        conn.execute(
            "INSERT INTO mip.quality_results (suite, dag_id, run_id, task_id, success, evaluated_rows, "
            "unexpected_rows, failing_expectations) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                gate.suite,
                dag_id,
                gate.run_id,
                task_id,
                gate.passed,
                gate.evaluated_rows,
                gate.unexpected_rows,
                json.dumps([o.as_json() for o in gate.failing], default=str),
            ),
        )
        if rejected:
            copy_rows(
                conn,
                "mip.rejected_rows",
                ("source", "run_id", "record_key", "field", "rule", "value", "message"),
                rejected,
            )
