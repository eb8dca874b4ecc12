"""Paths users give (DAG Params, command-line arguments) reach only the configured directories, and nothing
of a file's content reaches a log when the product cannot read it.

Probed through ``mip.paths.confine`` (absolute paths, ``..``, symlinks out and in, missing files, loops) and
through the real tasks: dag.test() runs of ``mip_migrate_csv__it`` (``source``) and ``mip_catalog_sync``
(``supplier_dir``) and ``python -m mip.catalog DIRECTORY``, each with a file holding a marker that must not
show anywhere in what the run printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from mip.paths import PathRefused, confine, confined_file
from tests.conftest import ROOT
from tests.dags.conftest import task_states
from tests.migration.test_dag import DEFAULTS as MIGRATION_DEFAULTS

IMPORTS_ROOT = Path(os.environ["MIP_IMPORTS_DIR"])
MARKER = f"JWT_SECRET=never-show-{uuid.uuid4().hex}"
MIGRATION = "mip_migrate_csv__it"


@pytest.fixture
def outside(tmp_path) -> Path:
    """A secret-looking file outside every allowed directory (pytest's tmp dir is not under MIP_IMPORTS_DIR)."""
    secret = tmp_path / "secrets" / "jwt_secret"
    secret.parent.mkdir()
    secret.write_text(MARKER + "\n")
    return secret


def refusal_of(given: str, roots: list[Path]) -> str:
    with pytest.raises(PathRefused) as refused:
        confine(given, roots, what="source")
    return str(refused.value)


# --- the confinement function ------------------------------------------------------------------------------------
def test_paths_inside_the_imports_directory_are_accepted_resolved(imports_dir):
    listing = imports_dir / "listings.txt"
    listing.write_text("x")
    roots = [imports_dir.parent]
    assert confine(str(listing), roots, what="source") == listing.resolve()
    assert confine(f"{imports_dir.name}/listings.txt", roots, what="source") == listing.resolve()  # relative
    assert confine(f"{imports_dir}/../{imports_dir.name}/./listings.txt", roots, what="source") == listing.resolve()
    inner = imports_dir / "link.txt"
    inner.symlink_to(listing)  # a symlink that stays inside is fine
    assert confined_file(str(inner), roots, what="source") == listing.resolve()


@pytest.mark.parametrize(
    "given",
    [
        "/etc/passwd",
        "/",
        "{outside}",
        "{imports}/../../../../../../../{outside}",
        "../{outside_name}",
        "{imports}/..",
        "",
        "with\x00nul",
    ],
)
def test_paths_outside_are_refused(imports_dir, outside, given):
    text = given.format(imports=imports_dir, outside=outside, outside_name=outside.name)
    message = refusal_of(text, [imports_dir])
    assert "is refused: only paths inside" in message and MARKER not in message


def test_symlinks_out_of_the_directory_are_refused(imports_dir, outside):
    (imports_dir / "innocent.txt").symlink_to(outside)
    (imports_dir / "folder").symlink_to(outside.parent, target_is_directory=True)
    assert "is refused" in refusal_of(str(imports_dir / "innocent.txt"), [imports_dir])
    assert "is refused" in refusal_of(str(imports_dir / "folder" / outside.name), [imports_dir])
    loop = imports_dir / "loop"
    loop.symlink_to(loop)
    with pytest.raises(PathRefused):
        confined_file(str(loop), [imports_dir], what="source")


def test_a_refused_path_reads_the_same_whether_it_exists_or_not(imports_dir, outside):
    missing = outside.parent / "no-such-file"
    existing, absent = refusal_of(str(outside), [imports_dir]), refusal_of(str(missing), [imports_dir])
    assert existing.replace(str(outside), "<path>") == absent.replace(str(missing), "<path>")
    folder = outside.parent
    assert refusal_of(str(folder), [imports_dir]).replace(str(folder), "<path>") == existing.replace(
        str(outside), "<path>"
    )


# --- the real tasks ----------------------------------------------------------------------------------------------
@pytest.fixture
def migrate(run_dag, dagbag):
    """``migrate(source)``: a dag.test() run of mip_migrate_csv__it planning from ``source`` (Params put back)."""

    def run(source: str):
        params = dagbag.get_dag(MIGRATION).params
        try:
            return run_dag(MIGRATION, conf={**MIGRATION_DEFAULTS, "source": source})
        finally:  # in-process runs share the DAG's Param objects
            for name, value in MIGRATION_DEFAULTS.items():
                params.get_param(name).value = value

    return run


@pytest.mark.parametrize("how", ["absolute", "dot-dot", "symlink", "missing"])
def test_the_migration_source_cannot_reach_a_file_outside(migrate, db, imports_dir, outside, output, how):
    if how == "symlink":
        (imports_dir / "listings.txt").symlink_to(outside)
    given = {
        "absolute": str(outside),
        "dot-dot": f"{imports_dir}/../../../../../../..{outside}",
        "symlink": str(imports_dir / "listings.txt"),
        "missing": str(outside.parent / "no-such-file"),
    }[how]
    dag_run = migrate(given)
    states = task_states(dag_run)
    assert states["request_listings"] == "failed" and states["stage_listings"] != "success", states
    printed = output()
    assert f"source {given!r} is refused: only paths inside {IMPORTS_ROOT.resolve()}" in printed
    assert MARKER not in printed
    recorded = db.execute("SELECT count(*) FROM mip.migration_inputs WHERE run_id = %s", (dag_run.run_id,))
    assert recorded.fetchone()[0] == 0


def test_an_unreadable_file_inside_never_shows_its_content(migrate, imports_dir, output):
    """The hole this suite was written for: the parse error echoed the file's first line into the task log."""
    for name, content in {
        "one-line.txt": MARKER + "\n",  # no separator at all
        "commas.csv": f"{MARKER},b,c\n1,2,3\n",  # a header without Amazon's columns
        "mixed.txt": (f"seller-sku\t{MARKER}\tfulfillment-channel\nA\tcaff\u00e8\tDEFAULT\n").encode()
        + "B\tcaff\u00e8\tDEFAULT\n".encode("latin-1"),
    }.items():
        file = imports_dir / name
        file.write_bytes(content if isinstance(content, bytes) else content.encode())
        dag_run = migrate(str(file))
        states = task_states(dag_run)
        assert (states["request_listings"], states["stage_listings"]) == ("success", "failed"), (name, states)
        printed = output()
        assert f"{file}: line " in printed, name  # the error names the file and the line ...
        assert MARKER not in printed and "never-show" not in printed, name  # ... and nothing of its content


def test_the_supplier_dir_param_cannot_reach_a_folder_outside(run_dag, dagbag, outside, output):
    from mip.airflow.pipelines.catalog_sync import DAG_ID

    (outside.parent / "products.csv").write_text(MARKER + "\n")
    try:
        dag_run = run_dag(DAG_ID, conf={"supplier_dir": str(outside.parent)})
    finally:  # in-process runs share the DAG's Param objects
        dagbag.get_dag(DAG_ID).params.get_param("supplier_dir").value = None
    assert task_states(dag_run)["ingest"] == "failed"
    printed = output()
    assert f"supplier_dir {str(outside.parent)!r} is refused" in printed and MARKER not in printed


def test_a_drop_file_linked_out_of_its_folder_is_refused(imports_dir, outside):
    from mip.catalog.supplier_format import CatalogSourceError, drop_files, supplier_dir

    drop = supplier_dir(str(imports_dir / "drop"))  # the Param's check: inside MIP_IMPORTS_DIR
    drop.mkdir()
    (drop / "products.csv").symlink_to(outside)
    (drop / "prices.csv").write_text("reference;cost_price;retail_price\n")
    (drop / "stock.csv").write_text("reference;stock\n")
    with pytest.raises(CatalogSourceError, match=r"products\.csv point\(s\) outside the folder") as refused:
        drop_files(drop)
    assert MARKER not in str(refused.value)


def test_an_unreadable_supplier_header_is_not_repeated(tmp_path):
    from mip.catalog.reader import read_header
    from mip.catalog.supplier_format import CatalogSourceError

    file = tmp_path / "products.csv"
    file.write_text(f"{MARKER};{MARKER}\n")
    with pytest.raises(CatalogSourceError) as refused:
        read_header(file, ("reference", "ean"))
    assert "line 1" in str(refused.value) and MARKER not in str(refused.value)
    file.write_text(f"reference;ean;{MARKER}\n")
    with pytest.raises(CatalogSourceError) as missing:
        read_header(file, ("reference", "ean", "brand"))
    assert "lacks column(s) brand" in str(missing.value) and MARKER not in str(missing.value)


def test_the_catalog_command_line_is_confined_too(outside):
    (outside.parent / "products.csv").write_text(MARKER + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "mip.catalog", str(outside.parent)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, "one line, no traceback"
    assert f"supplier_dir {str(outside.parent)!r} is refused" in result.stderr
    assert MARKER not in result.stdout + result.stderr


def test_the_imports_directory_is_configured_for_the_suite():
    from mip.paths import imports_dir

    assert imports_dir() == IMPORTS_ROOT and IMPORTS_ROOT.is_dir()
