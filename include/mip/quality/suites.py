"""Expectation suites stored as JSON (``mip/quality/suites/<name>.json``), reviewed like code.

A suite file is great-expectations' own suite format (``name``, ``expectations`` of ``type`` +
``kwargs`` + ``meta``) with two MIP conventions in ``meta``:

- ``meta.derived_columns`` (suite): ``[{"name": "ean_gtin_valid", "check": "gtin_checksum",
  "column": "ean"}]`` computes a boolean column with a check of ``mip.quality.checks`` before
  validation; an expectation then expects it true. A failing row is reported under the check's name
  and the source column (rule ``gtin_checksum(ean)``, value = the EAN).
- ``meta.message`` (expectation): the sentence written to ``mip.rejected_rows.message``.

Values may be suite parameters (``{"$PARAMETER": "max_price_change_percent"}``), given per run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SUITES_DIR = Path(__file__).resolve().parent / "suites"


class SuiteError(ValueError):
    """A suite file is missing or malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class DerivedColumn:
    name: str
    check: str
    column: str


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    expectations: tuple[dict[str, Any], ...]
    derived: tuple[DerivedColumn, ...]

    def columns(self) -> set[str]:
        """Every frame column the suite reads (derived columns' sources included)."""
        wanted = {d.column for d in self.derived}
        derived = {d.name for d in self.derived}
        for expectation in self.expectations:
            kwargs = expectation["kwargs"]
            for key in ("column", "column_A", "column_B"):
                if key in kwargs:
                    wanted.add(kwargs[key])
            wanted.update(kwargs.get("column_list", ()))
        return wanted - derived

    def derived_source(self, column: str) -> DerivedColumn | None:
        return next((d for d in self.derived if d.name == column), None)


def suite_path(name: str) -> Path:
    return SUITES_DIR / f"{name}.json"


@lru_cache(maxsize=32)
def load_suite(name: str) -> Suite:
    from mip.quality.checks import CHECKS

    path = suite_path(name)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = ", ".join(sorted(p.stem for p in SUITES_DIR.glob("*.json")))
        raise SuiteError(f"{path}: no such suite (known suites: {known})") from None
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}: not valid JSON ({exc})") from None
    if raw.get("name") != name:
        raise SuiteError(f"{path}: 'name' is {raw.get('name')!r}, expected {name!r} (the file name)")
    expectations = raw.get("expectations")
    if not expectations or not isinstance(expectations, list):
        raise SuiteError(f"{path}: 'expectations' must be a non-empty list")
    for index, expectation in enumerate(expectations):
        if not isinstance(expectation, dict) or not {"type", "kwargs"} <= expectation.keys():
            raise SuiteError(f"{path}: expectations[{index}] needs 'type' and 'kwargs'")
    derived = []
    for index, entry in enumerate(raw.get("meta", {}).get("derived_columns", [])):
        try:
            column = DerivedColumn(name=entry["name"], check=entry["check"], column=entry["column"])
        except (KeyError, TypeError):
            raise SuiteError(f"{path}: meta.derived_columns[{index}] needs name, check and column") from None
        if column.check not in CHECKS:
            raise SuiteError(
                f"{path}: meta.derived_columns[{index}]: unknown check {column.check!r} "
                f"(known: {', '.join(sorted(CHECKS))})"
            )
        derived.append(column)
    return Suite(name=name, path=path, expectations=tuple(expectations), derived=tuple(derived))
