"""Every ``mip`` command and module entry point answers a user's mistake with one line naming the file,
the rule and the fix, and exit status 1: never a traceback (run as the user runs them, in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.catalog.test_rules import HEADER, product, write_drop

UNREACHABLE = "postgresql://nobody@127.0.0.1:1/nothing"


def run(*args: str, **env: str | None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **{k: v for k, v in env.items() if v is not None}}
    for name in (k for k, v in env.items() if v is None):
        environment.pop(name, None)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=environment, timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess, *expected: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def test_a_header_error_of_the_catalog_is_one_line(imports_dir, mip_url):
    header = [c for c in HEADER if c != "name_en"]
    write_drop(imports_dir, [{c: product(1)[c] for c in header}], header=header)
    result = run("-m", "mip.catalog", str(imports_dir), MIP_DATABASE_URL=mip_url)
    assert_one_line_error(
        result, "python -m mip.catalog: error: products.csv line 1: the header lacks column(s) name_en", "Fix:"
    )


def test_a_missing_supplier_folder_is_one_line(imports_dir):
    result = run("-m", "mip.catalog", str(imports_dir / "nowhere"), MIP_DATABASE_URL=UNREACHABLE)
    assert_one_line_error(
        result, str(imports_dir / "nowhere"), "the supplier folder does not exist", "MIP_SUPPLIER_DIR"
    )


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("-m", "mip.migration", "list"), {"MIP_DATABASE_URL": None}, "MIP_DATABASE_URL is not set"),
        (("-m", "mip.migration", "--url", UNREACHABLE, "list"), {}, "Fix: check MIP_DATABASE_URL (or --url)"),
        (("-m", "mip.cli", "--url", UNREACHABLE, "db", "upgrade"), {}, "Fix: check MIP_DATABASE_URL (or --url)"),
        (("-m", "mip.catalog", "--url", UNREACHABLE), {"MIP_SUPPLIER_DIR": "/nonexistent"}, "/nonexistent"),
    ],
)
def test_a_database_or_setting_problem_is_one_line(args, env, expected):
    assert_one_line_error(run(*args, **env), expected)


def test_a_broken_topology_is_one_line(tmp_path):
    topology = tmp_path / "channels.yaml"
    topology.write_text("accounts: [}\n")
    result = run("-m", "mip.cli", "--url", UNREACHABLE, "channels", "deploy", str(topology))
    line = assert_one_line_error(result, f"{topology}: line 1", "not valid YAML")
    assert line.startswith("mip: error:")
