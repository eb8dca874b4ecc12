"""The ``doc_md`` of each DAG, read from its page under ``docs/pipelines/``: one source text for both.

A page marks the part shown in the Airflow UI::

    <!-- dag-doc: publish -->
    Selects, prices and publishes ...
    <!-- /dag-doc -->

The pages sit beside the package (``<repo>/docs/pipelines``; the Dockerfile copies ``docs/`` to
``/opt/airflow/docs``, beside ``/opt/airflow/include``). Reading one small file at parse time is
cheap and cached per process; no network, no database.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

PAGES = Path(__file__).resolve().parents[3] / "docs" / "pipelines"
_SECTION = re.compile(r"<!-- dag-doc: (?P<name>[a-z_]+) -->\n(?P<text>.*?)\n<!-- /dag-doc -->", re.DOTALL)


def doc_sections(text: str) -> dict[str, str]:
    """Every ``dag-doc`` section of a page's ``text``, by pipeline name."""
    return {m["name"]: m["text"].strip() for m in _SECTION.finditer(text)}


@cache
def pipeline_doc(name: str) -> str:
    """The ``dag-doc: <name>`` section of ``docs/pipelines/<name>.md``, as the DAG's ``doc_md``."""
    page = PAGES / f"{name}.md"
    try:
        return doc_sections(page.read_text(encoding="utf-8"))[name]
    except (OSError, KeyError):
        # a missing page must not break DAG parsing; tests/dags/test_doc_md.py keeps the repository whole
        log.warning("no dag-doc section %r in %s", name, page)
        return f"See `docs/pipelines/{name}.md` of the MIP repository."
