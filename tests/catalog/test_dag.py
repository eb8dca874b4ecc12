"""dag.test() of mip_catalog_sync: a small generated drop loads and the catalog asset is emitted once."""

from __future__ import annotations

from datetime import UTC, datetime

from mip.airflow.pipelines.catalog_sync import CATALOG_ASSET, DAG_ID
from sandbox import catalog
from tests.dags.conftest import skip_reason, task_states


def asset_events() -> list[tuple[str, dict]]:
    """(source run id, extra) of every event of the catalog asset, oldest first."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetEvent.source_run_id, AssetEvent.extra)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetModel.uri == CATALOG_ASSET.uri)
            .order_by(AssetEvent.id)
        ).all()
    return [(run_id, extra) for run_id, extra in rows]


def test_the_dag_follows_the_conventions(dagbag):
    dag = dagbag.get_dag(DAG_ID)
    assert dag is not None and dagbag.import_errors == {}
    assert {"pipeline:catalog_sync"} <= set(dag.tags) and dag.doc_md
    assert [t.task_id for t in dag.topological_sort()] == ["ingest", "report_rejections", "publish_catalog_version"]
    assert all(t.owner == "mip" and t.retries >= 1 for t in dag.tasks)
    assert set(dag.params) == {"supplier_dir", "max_rejected_fraction", "max_removed_fraction", "force"}


def test_a_run_loads_the_drop_and_emits_the_asset_only_when_the_catalog_changed(clean_catalog, run_dag, imports_dir):
    db = clean_catalog
    folder = imports_dir / "drop"
    bad = catalog.write_catalog(folder, count=300, seed=21)
    good = catalog.generate(300, seed=21).summaries()
    before = len(asset_events())

    run = run_dag(DAG_ID, logical_date=datetime(2026, 11, 2, 10, tzinfo=UTC), conf={"supplier_dir": str(folder)})
    assert str(run.state) == "success", task_states(run)
    assert set(task_states(run).values()) == {"success"}
    assert db.execute("SELECT count(*) FROM mip.supplier_products").fetchone()[0] == len(good)
    rejections = db.execute(
        "SELECT source, line, record_key, field, rule FROM mip.rejected_rows WHERE run_id = %s", (run.run_id,)
    ).fetchall()
    assert set(rejections) == {(b.file, b.line, b.reference, b.field, b.rule) for b in bad}
    events = asset_events()[before:]
    assert len(events) == 1
    version = db.execute("SELECT id FROM mip.catalog_versions ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert events[0][0] == run.run_id
    assert events[0][1]["version_id"] == version and events[0][1]["inserted"] == len(good)

    again = run_dag(DAG_ID, logical_date=datetime(2026, 11, 2, 11, tzinfo=UTC), conf={"supplier_dir": str(folder)})
    assert str(again.state) == "success", task_states(again)
    assert task_states(again)["publish_catalog_version"] == "skipped"
    assert "the catalog did not change" in skip_reason(again, "publish_catalog_version")
    assert len(asset_events()) == before + 1

    catalog.mutate(folder, fraction=0.02, seed=3)
    changed = run_dag(DAG_ID, logical_date=datetime(2026, 11, 2, 12, tzinfo=UTC), conf={"supplier_dir": str(folder)})
    assert task_states(changed)["publish_catalog_version"] == "success"
    assert asset_events()[-1][1]["updated"] == 6


def test_a_refused_drop_fails_the_run_and_emits_nothing(clean_catalog, run_dag, imports_dir):
    folder = imports_dir / "drop"
    catalog.write_catalog(folder, count=200, seed=22)
    stock = folder / "stock.csv"
    lines = stock.read_text().splitlines()
    stock.write_text("\n".join([lines[0]] + [f"{line.split(';')[0]};many" for line in lines[1:40]] + lines[40:]) + "\n")
    before = len(asset_events())
    run = run_dag(DAG_ID, logical_date=datetime(2026, 11, 3, 10, tzinfo=UTC), conf={"supplier_dir": str(folder)})
    states = task_states(run)
    assert str(run.state) == "failed"
    assert (states["ingest"], states["report_rejections"], states["publish_catalog_version"]) == (
        "success",
        "failed",
        "upstream_failed",
    )
    assert clean_catalog.execute("SELECT count(*) FROM mip.supplier_products").fetchone()[0] == 0
    assert len(asset_events()) == before
