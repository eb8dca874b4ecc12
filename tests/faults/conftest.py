"""The fault-injection suite: each case runs DAGs against a sandbox with a fault switched on, then
compares the ``mip`` tables with the sandbox's truth. Every case adds one row to the table printed at
the end of the session (``pytest_terminal_summary``: it shows without ``-s``) and, when every fault of
``ORDER`` ran, written to ``tests/faults/results.md`` (linked from docs/testing.md):

    fault | runs | orders lost | orders duplicated | double submissions | rows rejected (reason)

A case records its row *before* asserting, so a failing case still shows what it measured.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.catalog.conftest import clean_catalog  # noqa: F401  (a fixture)
from tests.dags.conftest import dagbag, run_dag  # noqa: F401  (dag.test() fixtures, shared)
from tests.orders.conftest import DEMO, clean_orders, truth  # noqa: F401  (clean_orders: a fixture)
from tests.publish.conftest import clean, connected, shop  # noqa: F401  (fixtures: empty catalog, listings, stages; a sandbox of the module)

# the order the rows are printed in (the list)
ORDER = (
    "throttling storm",
    "5xx bursts",
    "worker killed during a feed submission",
    "FATAL feed",
    "partial acceptance",
    "truncated report document",
    "refresh token revoked mid-run, reset, repaired",
    "Seller ID switched during an outage",
    "marketplace stops participating",
    "malformed supplier rows",
    "OAuth state tampering",
    "supplier 5xx bursts",
    "supplier timeout after create",
    "worker killed between supplier create and record",
    "insufficient supplier balance, then topped up",
    "Amazon cancellation racing the send",
    "confirmShipment throttled",
)


@dataclass
class FaultRow:
    fault: str
    runs: int
    orders_lost: int | None = None  # None: the case imports no orders
    orders_duplicated: int | None = None
    double_submissions: int | None = None  # None: the case submits no feed
    rejected: str = "-"


ROWS: dict[str, FaultRow] = {}


@pytest.fixture
def fault_table():
    """``fault_table(FaultRow(...))`` records the case's row of the summary table; the rows of one fault's
    variants (parametrized cases) add up."""

    def add(a: int | None, b: int | None) -> int | None:
        return None if a is None and b is None else (a or 0) + (b or 0)

    def record(row: FaultRow) -> FaultRow:
        known = ROWS.get(row.fault)
        if known is not None:
            row = FaultRow(
                row.fault,
                known.runs + row.runs,
                add(known.orders_lost, row.orders_lost),
                add(known.orders_duplicated, row.orders_duplicated),
                add(known.double_submissions, row.double_submissions),
                f"{known.rejected}; {row.rejected}",
            )
        ROWS[row.fault] = row
        return row

    return record


def render_table(rows: list[FaultRow]) -> list[str]:
    def cell(value: int | None) -> str:
        return "-" if value is None else str(value)

    header = ("fault", "runs", "orders lost", "orders duplicated", "double submissions", "rows rejected (reason)")
    body = [
        (r.fault, str(r.runs), cell(r.orders_lost), cell(r.orders_duplicated), cell(r.double_submissions), r.rejected)
        for r in rows
    ]
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(len(header))]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in body]
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not ROWS:
        return
    rows = sorted(ROWS.values(), key=lambda r: (ORDER.index(r.fault) if r.fault in ORDER else len(ORDER), r.fault))
    terminalreporter.section("fault injection (tests/faults)")
    for line in render_table(rows):
        terminalreporter.write_line(line)
    lost = sum(r.orders_lost or 0 for r in rows)
    duplicated = sum(r.orders_duplicated or 0 for r in rows)
    double = sum(r.double_submissions or 0 for r in rows)
    totals = (
        f"{len(rows)} faults, {sum(r.runs for r in rows)} runs: {lost} orders lost, "
        f"{duplicated} duplicated, {double} double submissions"
    )
    terminalreporter.write_line(totals)
    if set(ORDER) <= set(ROWS):
        RESULTS.write_text(results_markdown(rows, totals))
        terminalreporter.write_line(f"written to {RESULTS.relative_to(RESULTS.parents[2])}")


RESULTS = Path(__file__).with_name("results.md")


def results_markdown(rows: list[FaultRow], totals: str) -> str:
    """The table as the Markdown page docs/testing.md links, with when, where and at which commit it ran."""

    def cell(value: int | None) -> str:
        return "-" if value is None else str(value)

    root = Path(__file__).resolve().parents[2]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    lines = [
        "# Fault-injection suite: latest full run",
        "",
        "Written by `tests/faults/conftest.py` at the end of a test session that ran every fault case "
        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit.stdout.strip() or '?'}, Python "
        f"{platform.python_version()}, {platform.system()}). What each column means: docs/testing.md.",
        "",
        "| fault | runs | orders lost | orders duplicated | double submissions | rows rejected (reason) |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.fault} | {r.runs} | {cell(r.orders_lost)} | {cell(r.orders_duplicated)} | "
        f"{cell(r.double_submissions)} | {r.rejected} |"
        for r in rows
    ]
    return "\n".join([*lines, "", totals + '. ("-": the case imports no orders, or submits no feed.)', ""])


# --- comparisons with the sandbox's truth ------------------------------------------------------------------------
def order_tally(db, sandbox, channel_id: str, country: str, ids: set[str]) -> tuple[int, int]:
    """(lost, duplicated) of the sandbox's orders ``ids`` in mip.orders / mip.order_items.

    Lost: an order of the sandbox missing from mip.orders. Duplicated: an order stored with more lines
    than the sandbox gives it (the same line twice under two keys), or stored under another channel too.
    """
    expected = {k: v for k, v in truth(sandbox, country).items() if k in ids}
    stored = dict(
        db.execute(
            "SELECT amazon_order_id, channel_id FROM mip.orders WHERE amazon_order_id = ANY(%s)", (sorted(ids),)
        ).fetchall()
    )
    lines = Counter(
        dict(
            db.execute(
                "SELECT amazon_order_id, sum(quantity) FROM mip.order_items WHERE amazon_order_id = ANY(%s) GROUP BY 1",
                (sorted(ids),),
            ).fetchall()
        )
    )
    lost = sum(1 for order_id in expected if stored.get(order_id) != channel_id)
    duplicated = sum(
        1
        for order_id, order in expected.items()
        if lines.get(order_id, 0) > sum(i["QuantityOrdered"] for i in order["OrderItems"])
    )
    return lost, duplicated


def sandbox_feeds(sandbox, seller_id: str = DEMO) -> list[dict[str, Any]]:
    return sandbox.admin("GET", "feeds", params={"seller_id": seller_id})


def double_submissions(db, sandbox, known_feed_ids: set[str], seller_id: str = DEMO) -> int:
    """Feeds the sandbox holds beyond what MIP submitted once each, since ``known_feed_ids``.

    Counts (a) feeds created on Amazon that no mip.feed_submissions row records (a createFeed MIP lost
    track of, which a re-run would have sent again) and (b) a document of one run sent in more than one
    feed (same messages twice).
    """
    new = [f for f in sandbox_feeds(sandbox, seller_id) if f["feedId"] not in known_feed_ids]
    recorded = dict(
        db.execute(
            "SELECT feed_id, run_id FROM mip.feed_submissions WHERE seller_id = %s AND feed_id = ANY(%s)",
            (seller_id, [f["feedId"] for f in new]),
        ).fetchall()
    )
    unrecorded = sum(1 for f in new if f["feedId"] not in recorded)
    by_document = Counter(
        (recorded[f["feedId"]], hashlib.sha256(json.dumps(f["document"], sort_keys=True).encode()).hexdigest())
        for f in new
        if f["feedId"] in recorded
    )
    return unrecorded + sum(n - 1 for n in by_document.values())


def listing_mismatches(db, sandbox, channel_id: str, marketplace_id: str, seller_id: str = DEMO) -> list[str]:
    """Differences between mip.listings and the sandbox's MIP- listings (empty when they agree).

    A SKU Amazon accepted at least once (its row has a content hash) must be on Amazon at the stored
    price and quantity, whatever later messages did (a rejected patch keeps the last accepted values);
    a SKU never accepted must not be there.
    """
    listed = {
        row["sku"]: row
        for row in sandbox.admin("GET", "listings", params={"seller_id": seller_id, "marketplace_id": marketplace_id})
        if row["sku"].startswith("MIP-")
    }
    stored = {
        sku: (content_hash, price, quantity)
        for sku, content_hash, price, quantity in db.execute(
            "SELECT sku, content_hash, price, quantity FROM mip.listings WHERE channel_id = %s", (channel_id,)
        )
    }
    problems = [f"{sku}: on Amazon, unknown to mip.listings" for sku in sorted(set(listed) - set(stored))]
    for sku, (content_hash, price, quantity) in sorted(stored.items()):
        on_amazon = listed.get(sku)
        if content_hash is None:
            if on_amazon is not None:
                problems.append(f"{sku}: never accepted per mip.listings, but on Amazon")
        elif on_amazon is None:
            problems.append(f"{sku}: accepted per mip.listings, missing on Amazon")
        elif (round(float(on_amazon["price"]), 2), on_amazon["quantity"]) != (float(price), quantity):
            problems.append(
                f"{sku}: mip.listings {price} x {quantity}, Amazon {on_amazon['price']} x {on_amazon['quantity']}"
            )
    return problems


@pytest.fixture(scope="session")
def rerun(dagbag):  # noqa: F811
    """``rerun(dag_run, conf)``: the same run again, as clearing it in the UI does: the same run id and data
    interval, every task run afresh (``dag.test()`` with the run's ``run_after`` gives the same run id; it
    replaces the run's task instances)."""

    def again(dag_run, conf: dict | None = None):
        dag = dagbag.get_dag(dag_run.dag_id)
        return dag.test(run_after=dag_run.run_after, logical_date=dag_run.logical_date, run_conf=conf)

    return again


def utc_hour(hours_ago: int) -> datetime:
    """The start of the UTC hour ``hours_ago`` hours before the current one."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now - timedelta(hours=hours_ago)
