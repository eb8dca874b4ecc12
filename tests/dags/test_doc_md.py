"""Each DAG's doc_md is its pipeline's ``dag-doc`` section of docs/pipelines/<pipeline>.md: one source text."""

from __future__ import annotations

from mip.airflow.docs import PAGES, doc_sections, pipeline_doc

# DAGs whose doc_md is the section alone; the others put a heading and their channel's or account's facts
# (marketplace, role, Seller ID, connection; the account's channels) before it
SECTION_ONLY = {"mip_account_health", "mip_catalog_sync"}


def pipeline_of(dag) -> str:
    (tag,) = [t for t in dag.tags if t.startswith("pipeline:")]
    return tag.removeprefix("pipeline:")


def test_every_page_has_its_own_section():
    for page in sorted(PAGES.glob("*.md")):
        sections = doc_sections(page.read_text(encoding="utf-8"))
        assert list(sections) == [page.stem], f"{page.name} must hold exactly the dag-doc section {page.stem!r}"
        assert sections[page.stem], f"{page.name}: empty dag-doc section"


def test_every_dag_shows_its_docs_section(dagbag):
    assert dagbag.dags
    for dag_id, dag in dagbag.dags.items():
        pipeline = pipeline_of(dag)
        assert (PAGES / f"{pipeline}.md").exists(), f"{dag_id}: no docs/pipelines/{pipeline}.md"
        section = doc_sections((PAGES / f"{pipeline}.md").read_text(encoding="utf-8"))[pipeline]
        assert pipeline_doc(pipeline) == section
        if dag_id in SECTION_ONLY:
            assert dag.doc_md == section, dag_id
            continue
        heading, _, rest = dag.doc_md.partition("\n\n")
        assert heading.startswith("### "), f"{dag_id}: doc_md starts with {heading!r}"
        assert rest.startswith(section), f"{dag_id}: doc_md is not docs/pipelines/{pipeline}.md's dag-doc section"
        facts = rest.removeprefix(section).strip()
        assert all(line.startswith("- **") for line in facts.splitlines()), f"{dag_id}: doc_md has {facts!r}"
