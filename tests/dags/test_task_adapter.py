"""Every pipeline task reaches the mip database and Amazon through the task adapter (mip.airflow.adapter):
no task opens ``mip_db`` or a gateway itself, so the connection, commit and failure semantics are the
adapter's in every pipeline."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PIPELINES = ROOT / "include" / "mip" / "airflow" / "pipelines"
OPENED_BY_THE_ADAPTER = {"mip_db", "account_gateway", "SpApiHook"}
# repair probes a *previous* seller's stored authorization: a second gateway beside the adapter's
ALLOWED = {("repair.py", "seller_gateway")}


def _called_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else "")
    return names


def test_no_pipeline_task_opens_the_database_or_a_gateway_itself():
    found = {
        (path.name, name)
        for path in sorted(PIPELINES.glob("*.py"))
        for name in _called_names(path) & (OPENED_BY_THE_ADAPTER | {"seller_gateway"})
    }
    assert found <= ALLOWED, f"open these through run_step / run_account_step: {sorted(found - ALLOWED)}"


def test_the_rule_sees_a_direct_call(tmp_path):
    module = tmp_path / "pipeline.py"
    module.write_text("def task():\n    with mip_db() as conn:\n        return conn\n")
    assert "mip_db" in _called_names(module)
