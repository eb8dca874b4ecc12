"""The steps of ``mip_migrate_csv__<channel>``, each ``step(key, conn, [gateway], params=..., user=...)``
(``mip.runs``); the DAG runs each as one task, the waits as reschedule-mode sensors.

request_listings -> wait_listings -> stage_listings -> gate_listings, then ``make_plan`` (a dry run) or
``approve_plan`` -> submit_deletes -> wait_feeds -> apply_results -> verify_deleted -> finish. Every step reads the
run's Params again (``RunParams.parse``): a bad combination fails the first step at once, with the fix. The
listings report is a ``mip.amazon.reports.ReportJob``: CANCELLED (Amazon had no data: no listing) is an empty
report, FATAL fails at once with the fix. The steps' code is imported when a step runs (the DAG file imports this
module at parse time).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mip.runs import RunKey, StepFailed, StepSkipped

if TYPE_CHECKING:
    import psycopg

    from mip.amazon.gateway import SpApiGateway
    from mip.amazon.reports import ReportJob
    from mip.config import Channel
    from mip.migration.execute import Execution
    from mip.migration.listings_file import ParsedListings
    from mip.migration.plan import PlanContext

log = logging.getLogger(__name__)
REPORT_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"
DEFAULT_MAX_DELETE_FRACTION = 0.2
PLAN_FIX = (
    "nothing was deleted. Read the reason above and the plan (the log of make_plan, mip.migration_plan_headers); "
    "then make a new plan with a dry run and approve that one (docs/pipelines/migrate_csv.md)"
)


@dataclass(frozen=True)
class RunParams:
    dry_run: bool
    max_delete_fraction: float | None  # None: the plan's own when approving, DEFAULT_MAX_DELETE_FRACTION when planning
    source: str  # "": the plan's own when approving, "report" when planning
    approve_plan_id: str | None
    max_plan_age_days: int
    actor: str

    @property
    def from_report(self) -> bool:
        return self.source in ("", "report")

    @property
    def planning_fraction(self) -> float:
        return DEFAULT_MAX_DELETE_FRACTION if self.max_delete_fraction is None else self.max_delete_fraction

    @classmethod
    def parse(cls, params: dict[str, Any], user: str | None = None) -> RunParams:
        """The run's Params (``user``: who triggered it, when Airflow knows); ``StepFailed`` for a bad one."""
        approve = str(params.get("approve_plan_id") or "").strip() or None
        dry_run = bool(params.get("dry_run", True))
        source = str(params.get("source") or "").strip()
        if not dry_run and approve is None:
            raise StepFailed(
                "dry_run is false but no approve_plan_id is given: deleting needs an approved plan",
                fix="trigger with dry_run = true to make a plan, read it, then trigger with approve_plan_id = "
                "<plan id> and dry_run = false",
            )
        given = params.get("max_delete_fraction")
        fraction = None if given is None or given == "" else float(given)
        if fraction is not None and not 0 <= fraction <= 1:
            raise StepFailed(f"max_delete_fraction must be between 0 and 1, not {fraction}", fix="correct the Param")
        actor = user or str(params.get("actor") or "").strip() or "unknown"
        return cls(dry_run, fraction, source, approve, int(params.get("max_plan_age_days", 7)), actor)


def listings_job(channel: Channel) -> ReportJob:
    from mip.amazon.reports import ReportJob

    return ReportJob("listings report", REPORT_TYPE, channel.country, (channel.marketplace.marketplace_id,))


def listings_file(source: str) -> Path:
    """The seller's listings file named by the ``source`` Param: only a file inside ``MIP_IMPORTS_DIR``."""
    from mip.paths import PathRefused, confined_file, imports_dir

    try:
        return confined_file(source, [imports_dir()], what="source")
    except PathRefused as exc:
        raise StepFailed(str(exc), fix="name a file inside the imports directory, or give 'report'") from None


def _amazon(gateway: SpApiGateway | None) -> SpApiGateway:
    """The gateway of a step that reads Amazon's report (the task opens one whenever the source is the report)."""
    if gateway is None:
        raise StepFailed("the listings report needs the account's SP-API connection", fix="give a source file")
    return gateway


def _input(conn: psycopg.Connection, key: RunKey) -> dict[str, Any]:
    from mip.migration import stage

    source = stage.input_of(conn, key)
    if source is None:
        raise StepFailed(f"run {key.run_id} has no listings request", fix="clear request_listings")
    return source


# --- reading the listings ------------------------------------------------------------------------------------------


def request_listings(
    key: RunKey,
    conn: psycopg.Connection,
    gateway: SpApiGateway | None = None,
    *,
    params: dict[str, Any],
    user: str | None = None,
) -> dict[str, Any]:
    """Check the Params; request the merchant listings report (or check the flat file is readable). A file
    ``source`` needs no ``gateway``: it is refused, or read, before any connection to Amazon is opened."""
    from mip.migration import stage
    from mip.migration.approve import plan_source

    run = RunParams.parse(params, user)
    mode = f"approving plan {run.approve_plan_id}" if run.approve_plan_id else "planning"
    source = run.source
    if not source and run.approve_plan_id:  # an approval reads what the plan was made from
        source = plan_source(conn, run.approve_plan_id) or ""
    source = source or "report"
    fraction = "the plan's" if run.max_delete_fraction is None else run.max_delete_fraction
    log.info(
        "channel %s (%s): %s; dry_run=%s, max_delete_fraction=%s, source=%s, actor=%s",
        key.channel_id,
        key.country,
        mode,
        run.dry_run,
        fraction,
        source,
        run.actor,
    )
    if source != "report":
        path = listings_file(source)
        stage.record_input(conn, key, "file", path=str(path))
        return {"source": "file", "path": str(path)}
    report_id = listings_job(key.channel).request(_amazon(gateway))
    stage.record_input(conn, key, "report", report_id=report_id)
    log.info("requested %s report %s", REPORT_TYPE, report_id)
    return {"source": "report", "report_id": report_id}


def wait_listings(key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway | None = None, **_: Any) -> bool:
    """One getReport: is the listings report done (DONE, or CANCELLED: empty)? At once for a file."""
    from mip.amazon.reports import ReportFatal
    from mip.migration import stage

    source = _input(conn, key)
    if source["source"] == "file":
        return True
    try:
        state = listings_job(key.channel).poll(_amazon(gateway), source["report_id"])
    except ReportFatal:
        stage.set_report_status(conn, key, "FATAL")
        conn.commit()
        raise
    stage.set_report_status(conn, key, state.status)
    return state.done


def _no_listings() -> ParsedListings:
    import pandas as pd

    from mip.migration.listings_file import FRAME_COLUMNS, ParsedListings

    return ParsedListings(pd.DataFrame({column: pd.Series(dtype="object") for column in FRAME_COLUMNS}))


def stage_listings(
    key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway | None = None, **_: Any
) -> dict[str, Any]:
    """Download the report (or read the file), parse it -> mip.migration_listings; unreadable rows ->
    mip.rejected_rows (line, column)."""
    from mip.migration import stage
    from mip.migration.listings_file import ListingsFileError, parse

    source = _input(conn, key)
    if source["source"] == "file":  # confined again: the file may have been replaced since request_listings
        data, name = listings_file(source["path"]).read_bytes(), source["path"]
    else:
        text = listings_job(key.channel).read(_amazon(gateway), source["report_id"])
        data, name = text.encode("utf-8"), f"listings report {source['report_id']}"
    try:
        parsed = parse(data, name) if data else _no_listings()  # b"": CANCELLED, Amazon had no listing
    except ListingsFileError as exc:
        raise StepFailed(str(exc), fix="correct the file, or give 'report' for Amazon's listings report") from None
    counts = stage.stage(conn, key, parsed)
    log.info(
        "%s: %s listing rows (%s, %s-separated), %s unreadable",
        name,
        f"{counts['rows']:,}",
        counts["encoding"],
        counts["delimiter"],
        f"{counts['unreadable']:,}",
    )
    for problem in parsed.problems[:10]:
        log.info("  line %s, column %s (%s): %s", problem.line, problem.column or "-", problem.rule, problem.message)
    return counts


def gate_listings(key: RunKey, conn: psycopg.Connection, **_: Any) -> dict[str, Any]:
    """Suite migration_listings (keys, fulfilment, product ids); failing rows are never matched."""
    from mip.migration import stage

    result, rejected = stage.gate(conn, key)
    rows = _input(conn, key)["rows"] or 0
    examples = stage.rejection_examples(conn, key)
    conn.commit()  # before the verdict: rejected rows stay recorded on failure
    log.info("%s", result.message())
    fraction = rejected / rows if rows else 0.0
    for example in examples:
        log.info("  rejected: %s", example)
    if not result.passed or fraction > stage.MAX_REJECTED_FRACTION:
        raise StepFailed(
            f"{rejected:,} of {rows:,} listing rows ({fraction:.1%}) are unreadable or fail the migration_listings "
            f"gate (at most {stage.MAX_REJECTED_FRACTION:.0%}): is this the right file? First problems: "
            + " | ".join(examples)
            + f". All of them: mip.rejected_rows (source {stage.read_source(key.channel_id)!r} or "
            f"{stage.gate_source(key.channel_id)!r}, run_id {key.run_id!r})",
            fix="check the file (or the report) and run again",
        )
    return {**result.summary(), "rejected_in_all": rejected}


# --- the plan ------------------------------------------------------------------------------------------------------


def _plan_context(key: RunKey, run: RunParams) -> PlanContext:
    from mip.config import load_topology
    from mip.migration.plan import PlanContext

    topology = load_topology()
    channel = key.channel
    return PlanContext(
        channel, topology.account_of(channel), key.run_id, key.dag_id, run.actor, topology.catalog.language
    )


def _for_file(conn: psycopg.Connection, key: RunKey, gateway: SpApiGateway) -> SpApiGateway | None:
    """The gateway when the run read the seller's file (MIP's copies are then looked up on Amazon); None when it
    read the listings report (which shows them)."""
    return None if _input(conn, key)["source"] == "report" else gateway


def make_plan(
    key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway, *, params: dict[str, Any], user: str | None = None
) -> dict[str, Any]:
    """Match the listings against the catalog -> mip.migration_plans; log the summary. Deletes nothing."""
    from mip.migration.plan import EmptyCatalog, build_plan

    run = RunParams.parse(params, user)
    try:
        outcome = build_plan(
            conn,
            _plan_context(key, run),
            max_delete_fraction=run.planning_fraction,
            gateway=_for_file(conn, key, gateway),
        )
    except EmptyCatalog as exc:  # nothing could match: no plan, and nothing wrong with the seller's listings
        raise StepSkipped(str(exc)) from None
    log.info("%s", outcome.text)
    if outcome.status == "refused":
        conn.commit()  # the refused plan stays recorded
        raise StepFailed(f"plan {outcome.plan_id} refused: {outcome.refusal}", plan_id=outcome.plan_id, fix=PLAN_FIX)
    return {
        "plan_id": outcome.plan_id,
        "planned": outcome.planned,
        "by_reason": outcome.summary["by_reason"],
        "excluded": outcome.summary["excluded"],
    }


def approve_plan(
    key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway, *, params: dict[str, Any], user: str | None = None
) -> dict[str, Any]:
    """Check plan approve_plan_id against this run's fresh listings (age, changes, gates); audit the approval."""
    from mip.migration.approve import PlanRefused, approve

    run = RunParams.parse(params, user)
    assert run.approve_plan_id is not None, "approve_plan runs only on an approval (the DAG branches on it)"
    try:
        approval = approve(
            conn,
            _plan_context(key, run),
            run.approve_plan_id,
            max_delete_fraction=run.max_delete_fraction,
            max_age_days=run.max_plan_age_days,
            dry_run=run.dry_run,
            gateway=_for_file(conn, key, gateway),
        )
    except PlanRefused as exc:
        conn.commit()  # the refusal stays audited
        raise StepFailed(str(exc), plan_id=run.approve_plan_id, fix=PLAN_FIX) from None
    log.info("%s", f"{approval.message}; approved by {run.actor}" if approval.executes else approval.message)
    return {"plan_id": approval.plan_id, "to_delete": approval.to_delete, "executes": approval.executes}


def choose(key: RunKey, conn: psycopg.Connection, *, params: dict[str, Any], user: str | None = None) -> str:
    """The branch after the gate: make_plan without approve_plan_id, approve_plan with it."""
    return "approve_plan" if RunParams.parse(params, user).approve_plan_id else "make_plan"


def execution(key: RunKey, params: dict[str, Any], user: str | None = None) -> Execution:
    """The approving run's execution of its plan; ``StepSkipped`` when nothing is to be deleted."""
    from mip.config import load_topology
    from mip.migration.execute import Execution

    run = RunParams.parse(params, user)
    if run.approve_plan_id is None or run.dry_run:
        raise StepSkipped("dry run: nothing is deleted")
    account = load_topology().account_of(key.channel)
    return Execution(key.channel, account, run.approve_plan_id, key.run_id, key.dag_id)
