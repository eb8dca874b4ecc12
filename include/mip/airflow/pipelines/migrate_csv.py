"""``mip_migrate_csv__<channel>``: find CSV-era duplicate listings and delete them once a plan is approved.

check_channel -> request_listings -> wait_listings -> stage_listings -> gate_listings -> choose, then

- without ``approve_plan_id`` (a dry run): make_plan (the plan and its summary, nothing deleted);
- with ``approve_plan_id``: approve_plan (the plan against fresh listings) -> submit_deletes ->
  wait_feeds -> apply_results -> verify_deleted -> finish (the verdict and the audit).

Every step reads and writes tables of ``mip`` keyed by the run (``migration_inputs``,
``migration_listings``, ``migration_plan_headers``, ``migration_plans``, ``feed_submissions``,
``migration_audit``); only small summaries go through XCom. Waits (the listings report, the feeds,
the deletions showing) are reschedule-mode sensors: no worker slot is held between polls.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, TriggerRule, task

from mip.airflow.common import channel_dag, check_channel, skip, sp_api_pool
from mip.airflow.errors import TaskFailure
from mip.config import Channel, Topology

ROLES = ("main",)  # the channel roles mip_migrate_csv__<channel> runs for
REPORT_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"
# Seconds before a sensor's second poll (reschedule mode: no worker slot held in between); later polls back
# off exponentially up to the MAX_WAITs (a listings report takes Amazon a minute or two, a feed minutes).
POKE_SECONDS = float(os.environ.get("MIP_MIGRATION_POKE_SECONDS", "5"))
VERIFY_POKE_SECONDS = float(os.environ.get("MIP_MIGRATION_VERIFY_POKE_SECONDS", "10"))
MAX_WAIT = timedelta(minutes=2)
VERIFY_MAX_WAIT = timedelta(minutes=5)
REPORT_TIMEOUT = timedelta(hours=6)
FEED_TIMEOUT = timedelta(hours=12)
VERIFY_TIMEOUT = timedelta(hours=2)
DEFAULT_MAX_DELETE_FRACTION = 0.2
PLAN_FIX = (
    "nothing was deleted. Read the reason above and the plan (the log of make_plan, mip.migration_plan_headers); "
    "then make a new plan with a dry run and approve that one (README, 'CSV-to-MIP migration')"
)

DOC = (
    "Finds the listings the seller once uploaded by CSV/flat file that are the same products MIP publishes "
    "(same ASIN, same GTIN, the supplier reference in the SKU, same brand + title — in particular one product "
    "under two EANs) and deletes them once a plan is approved. **Every run plans first and deletes nothing** "
    "unless `approve_plan_id` names a plan and `dry_run` is false.\n\n"
    "1. Trigger with the defaults (`dry_run` true, `source` report): the run reads the merchant listings report, "
    "writes a plan and prints its summary (task `make_plan`). Read it: `python -m mip.migration show <plan id>`, "
    "or `mip.migration_plans` (reason and evidence per SKU).\n"
    "2. Trigger again with the conf of the plan's `Next:` line (`approve_plan_id`, `dry_run` false, the plan's "
    "`source` and `max_delete_fraction`; left empty they are the plan's own): the plan is checked against "
    "fresh listings from the same source (refused when older than `max_plan_age_days` or when its listings "
    "changed), then DELETE messages go out in JSON_LISTINGS_FEED documents, each SKU's outcome is recorded and "
    "every deletion is verified. Failed SKUs are retried by approving the same plan again.\n\n"
    "A duplicate is deleted only once MIP's own listing of the product is live on Amazon; until then its row "
    "waits (`waiting`, with the reason) and a later approval of the same plan deletes it.\n\n"
    "Never deleted: MIP's own SKUs (`MIP-...`), FBA listings, products the channel does not publish, more than "
    "`max_delete_fraction` of the marketplace's listings. Who approved and what was deleted: "
    "`mip.migration_audit`."
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


def _params(context: Any) -> RunParams:
    from airflow.sdk.exceptions import AirflowFailException

    params = context["params"]
    approve = str(params.get("approve_plan_id") or "").strip() or None
    dry_run = bool(params.get("dry_run", True))
    source = str(params.get("source") or "").strip()
    if not dry_run and approve is None:
        raise AirflowFailException(
            "dry_run is false but no approve_plan_id is given: deleting needs an approved plan. Trigger with "
            "dry_run = true to make a plan, read it, then trigger with approve_plan_id = <plan id> and dry_run = false"
        )
    given = params.get("max_delete_fraction")
    fraction = None if given is None or given == "" else float(given)
    if fraction is not None and not 0 <= fraction <= 1:
        raise AirflowFailException(f"max_delete_fraction must be between 0 and 1, not {fraction}")
    user = getattr(context.get("dag_run"), "triggering_user_name", None)
    actor = user or str(params.get("actor") or "").strip() or "unknown"
    return RunParams(dry_run, fraction, source, approve, int(params.get("max_plan_age_days", 7)), actor)


def _run(channel_id: str):
    """(context, channel, account, RunKey, RunParams) of the running task."""
    from airflow.sdk import get_current_context

    from mip.config import load_topology
    from mip.migration.stage import RunKey

    context = get_current_context()
    topology = load_topology()
    channel = topology.channel(channel_id)
    key = RunKey(channel_id, context["run_id"], context["dag"].dag_id, context["task"].task_id)
    return context, channel, topology.account_of(channel), key, _params(context)


@contextmanager
def _gateway(account) -> Iterator[Any]:
    """The account's gateway; Amazon's permanent errors and a missing or incomplete connection fail the task
    at once (retrying cannot fix them)."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

    from mip.airflow.errors import amazon_errors
    from mip.airflow.hooks.sp_api import SpApiHook

    with amazon_errors():
        try:
            gateway = SpApiHook(account.connection_id, account.id).gateway()
        except AirflowNotFoundException:
            raise AirflowFailException(
                f"no Airflow connection {account.connection_id!r} for seller account {account.id!r}: create it (type "
                "Amazon SP-API) or connect the account in Multi-Channel > Marketplaces (README, 'Credentials')"
            ) from None
        except ValueError as exc:
            raise AirflowFailException(str(exc)) from None
        try:
            yield gateway
        finally:
            if gateway.budget is not None:
                gateway.budget.conn.close()


def _execution(channel_id: str):
    """(context, Execution, RunParams) of an approving run's task; skips it when nothing is to be deleted."""

    from mip.migration.execute import Execution

    context, channel, account, key, params = _run(channel_id)
    if params.approve_plan_id is None or params.dry_run:
        skip("dry run: nothing is deleted")
    return context, Execution(channel, account, params.approve_plan_id, key.run_id, key.dag_id), params


def _listings_file(source: str) -> Path:
    """The seller's listings file named by the ``source`` Param: only a file inside ``MIP_IMPORTS_DIR``."""
    from airflow.sdk.exceptions import AirflowFailException

    from mip.paths import PathRefused, confined_file, imports_dir

    try:
        return confined_file(source, [imports_dir()], what="source")
    except PathRefused as exc:
        raise AirflowFailException(f"{exc}; or give 'report' for Amazon's listings report") from None


@task(task_id="request_listings")
def request_listings(channel_id: str) -> dict[str, Any]:
    """Check the Params; request the merchant listings report (or check the flat file is readable)."""

    from mip.airflow.db import mip_db
    from mip.amazon.reports import create_report
    from mip.migration import stage
    from mip.migration.approve import plan_source

    _, channel, account, key, params = _run(channel_id)
    mode = f"approving plan {params.approve_plan_id}" if params.approve_plan_id else "planning"
    source = params.source
    if not source and params.approve_plan_id:  # an approval reads what the plan was made from
        with mip_db() as conn:
            source = plan_source(conn, params.approve_plan_id) or ""
    source = source or "report"
    fraction = "the plan's" if params.max_delete_fraction is None else params.max_delete_fraction
    print(
        f"channel {channel_id} ({channel.country}): {mode}; dry_run={params.dry_run}, "
        f"max_delete_fraction={fraction}, source={source}, actor={params.actor}"
    )
    if source != "report":
        path = _listings_file(source)
        with mip_db() as conn:
            stage.record_input(conn, key, "file", path=str(path))
        return {"source": "file", "path": str(path)}
    with _gateway(account) as gateway:
        report_id = create_report(gateway, channel.country, REPORT_TYPE, [channel.marketplace.marketplace_id])
    with mip_db() as conn:
        stage.record_input(conn, key, "report", report_id=report_id)
    print(f"requested {REPORT_TYPE} report {report_id}")
    return {"source": "report", "report_id": report_id}


@task.sensor(
    task_id="wait_listings",
    poke_interval=POKE_SECONDS,
    mode="reschedule",
    timeout=REPORT_TIMEOUT,
    exponential_backoff=True,
    max_wait=MAX_WAIT,
)
def wait_listings(channel_id: str):
    """Poll getReport until the listings report is done (returns at once for a file)."""
    from airflow.sdk import PokeReturnValue
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.amazon.reports import get_report
    from mip.migration import stage

    _, channel, account, key, _ = _run(channel_id)
    with mip_db() as conn:
        source = stage.input_of(conn, key)
    if source is None:
        raise AirflowFailException(f"run {key.run_id} has no listings request: clear request_listings")
    if source["source"] == "file":
        return PokeReturnValue(is_done=True)
    with _gateway(account) as gateway:
        status = get_report(gateway, channel.country, source["report_id"])["processingStatus"]
    with mip_db() as conn:
        stage.set_report_status(conn, key, status)
    print(f"report {source['report_id']}: {status}")
    if status in ("FATAL", "CANCELLED"):
        raise AirflowFailException(
            f"Amazon could not produce listings report {source['report_id']} ({status}); clear request_listings to "
            "ask for a new one"
        )
    return PokeReturnValue(is_done=status == "DONE")


@task(task_id="stage_listings")
def stage_listings(channel_id: str) -> dict[str, Any]:
    """Download the report (or read the file), parse it -> mip.migration_listings; unreadable rows ->
    mip.rejected_rows (line, column)."""
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.amazon.reports import download_report, get_report
    from mip.migration import stage
    from mip.migration.listings_file import ListingsFileError, parse

    _, channel, account, key, _ = _run(channel_id)
    with mip_db() as conn:
        source = stage.input_of(conn, key)
    if source["source"] == "file":  # confined again: the file may have been replaced since request_listings
        data, name = _listings_file(source["path"]).read_bytes(), source["path"]
    else:
        with _gateway(account) as gateway:
            report = get_report(gateway, channel.country, source["report_id"])
            text = download_report(gateway, channel.country, report["reportDocumentId"])
        data, name = text.encode("utf-8"), f"listings report {source['report_id']}"
    try:
        parsed = parse(data, name)
    except ListingsFileError as exc:
        raise AirflowFailException(str(exc)) from None
    with mip_db() as conn:
        counts = stage.stage(conn, key, parsed)
    print(
        f"{name}: {counts['rows']:,} listing rows ({counts['encoding']}, {counts['delimiter']}-separated), "
        f"{counts['unreadable']:,} unreadable"
    )
    for problem in parsed.problems[:10]:
        print(f"  line {problem.line}, column {problem.column or '-'} ({problem.rule}): {problem.message}")
    return counts


@task(task_id="gate_listings")
def gate_listings(channel_id: str) -> dict[str, Any]:
    """Suite migration_listings (keys, fulfilment, product ids); failing rows are never matched."""
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.migration import stage

    _, _, _, key, _ = _run(channel_id)
    with mip_db() as conn:  # committed before the verdict: rejected rows stay recorded on failure
        result, rejected = stage.gate(conn, key)
        rows = stage.input_of(conn, key)["rows"] or 0
        examples = stage.rejection_examples(conn, key)
    print(result.message())
    fraction = rejected / rows if rows else 0.0
    for example in examples:
        print(f"  rejected: {example}")
    if not result.passed or fraction > stage.MAX_REJECTED_FRACTION:
        raise AirflowFailException(
            f"{rejected:,} of {rows:,} listing rows ({fraction:.1%}) are unreadable or fail the migration_listings "
            f"gate (at most {stage.MAX_REJECTED_FRACTION:.0%}): is this the right file? First problems: "
            + " | ".join(examples)
            + f". All of them: mip.rejected_rows (source {stage.read_source(channel_id)!r} or "
            f"{stage.gate_source(channel_id)!r}, run_id {key.run_id!r})"
        )
    return {**result.summary(), "rejected_in_all": rejected}


@task.branch(task_id="choose")
def choose(channel_id: str) -> str:
    """make_plan without approve_plan_id, approve_plan with it."""
    params = _run(channel_id)[4]
    return "approve_plan" if params.approve_plan_id else "make_plan"


def _plan_context(channel, account, key, params):
    from mip.config import load_topology
    from mip.migration.plan import PlanContext

    return PlanContext(channel, account, key.run_id, key.dag_id, params.actor, load_topology().catalog.language)


@contextmanager
def _gateway_for_file(conn, account, key) -> Iterator[Any]:
    """The account's gateway when the run read the seller's file (MIP's copies are then looked up on Amazon);
    None when it read the listings report (which shows them)."""
    from mip.migration import stage

    if stage.input_of(conn, key)["source"] == "report":
        yield None
        return
    with _gateway(account) as gateway:
        yield gateway


@task(task_id="make_plan")
def make_plan(channel_id: str) -> dict[str, Any]:
    """Match the listings against the catalog -> mip.migration_plans; print the summary. Deletes nothing."""

    from mip.airflow.db import mip_db
    from mip.migration.plan import EmptyCatalog, build_plan

    _, channel, account, key, params = _run(channel_id)
    with mip_db() as conn, _gateway_for_file(conn, account, key) as gateway:
        try:
            outcome = build_plan(
                conn,
                _plan_context(channel, account, key, params),
                max_delete_fraction=params.planning_fraction,
                gateway=gateway,
            )
        except EmptyCatalog as exc:  # nothing could match: no plan, and nothing wrong with the seller's listings
            skip(str(exc))
    print(outcome.text)
    if outcome.status == "refused":
        raise TaskFailure(f"plan {outcome.plan_id} refused: {outcome.refusal}", plan_id=outcome.plan_id, fix=PLAN_FIX)
    return {
        "plan_id": outcome.plan_id,
        "planned": outcome.planned,
        "by_reason": outcome.summary["by_reason"],
        "excluded": outcome.summary["excluded"],
    }


@task(task_id="approve_plan")
def approve_plan(channel_id: str) -> dict[str, Any]:
    """Check plan approve_plan_id against this run's fresh listings (age, changes, gates); audit the approval."""

    from mip.airflow.db import mip_db
    from mip.migration.approve import PlanRefused, approve

    _, channel, account, key, params = _run(channel_id)
    refusal = None
    with mip_db() as conn, _gateway_for_file(conn, account, key) as gateway:
        try:
            approval = approve(
                conn,
                _plan_context(channel, account, key, params),
                params.approve_plan_id,
                max_delete_fraction=params.max_delete_fraction,
                max_age_days=params.max_plan_age_days,
                dry_run=params.dry_run,
                gateway=gateway,
            )
        except PlanRefused as exc:
            refusal = str(exc)
    if refusal:
        raise TaskFailure(refusal, plan_id=params.approve_plan_id, fix=PLAN_FIX)
    print(f"{approval.message}; approved by {params.actor}" if approval.executes else approval.message)
    return {"plan_id": approval.plan_id, "to_delete": approval.to_delete, "executes": approval.executes}


@task(task_id="submit_deletes")
def submit_deletes(channel_id: str) -> dict[str, int]:
    """DELETE messages in JSON_LISTINGS_FEED documents, each recorded before it is sent (never twice)."""
    from mip.airflow.db import mip_db
    from mip.migration.execute import submit

    _, run, _ = _execution(channel_id)
    with _gateway(run.account) as gateway, mip_db() as conn:
        counts = submit(conn, gateway, run)
    print(
        f"plan {run.plan_id}: {counts['to_delete']:,} listings to delete in {counts['documents']} feed "
        f"document(s); {counts['sent']} submission(s) sent"
    )
    return counts


@task.sensor(
    task_id="wait_feeds",
    poke_interval=POKE_SECONDS,
    mode="reschedule",
    timeout=FEED_TIMEOUT,
    exponential_backoff=True,
    max_wait=MAX_WAIT,
)
def wait_feeds(channel_id: str):
    """Poll getFeed until every DELETE feed of the plan is processed."""
    from airflow.sdk import PokeReturnValue

    from mip.airflow.db import mip_db
    from mip.amazon.feeds import DONE_STATUSES
    from mip.migration.execute import poll_feeds

    _, run, _ = _execution(channel_id)
    with _gateway(run.account) as gateway, mip_db() as conn:
        statuses = poll_feeds(conn, gateway, run)
    print(f"feeds of plan {run.plan_id}: {statuses or 'none waiting'}")
    return PokeReturnValue(is_done=all(s in DONE_STATUSES for s in statuses.values()))


@task(task_id="apply_results")
def apply_results(channel_id: str) -> dict[str, Any]:
    """The processing reports per SKU: deleted, or failed with Amazon's issues."""
    from mip.airflow.db import mip_db
    from mip.migration.execute import apply

    _, run, _ = _execution(channel_id)
    with _gateway(run.account) as gateway, mip_db() as conn:
        result = apply(conn, gateway, run)
    print(f"plan {run.plan_id}: {result['deleted']:,} deletions accepted, {len(result['failed']):,} failed")
    for sku, issues in list(result["failed"].items())[:20]:
        print(f"  {sku}: {[(i.get('code'), i.get('message')) for i in issues[:2]]}")
    return {"deleted": result["deleted"], "failed": len(result["failed"])}


@task.sensor(
    task_id="verify_deleted",
    poke_interval=VERIFY_POKE_SECONDS,
    mode="reschedule",
    timeout=VERIFY_TIMEOUT,
    exponential_backoff=True,
    max_wait=VERIFY_MAX_WAIT,
)
def verify_deleted(channel_id: str):
    """getListingsItem for every accepted deletion until each answers 404 (the listing is gone)."""
    from airflow.sdk import PokeReturnValue

    from mip.airflow.db import mip_db
    from mip.migration.execute import verify

    _, run, _ = _execution(channel_id)
    with _gateway(run.account) as gateway, mip_db() as conn:
        counts = verify(conn, gateway, run)
    print(
        f"plan {run.plan_id}: {counts['verified']:,} of {counts['checked']:,} deletions verified, "
        f"{counts['still_listed']:,} still listed"
    )
    return PokeReturnValue(is_done=counts["still_listed"] == 0)


@task(task_id="finish", trigger_rule=TriggerRule.ALL_DONE)
def finish(channel_id: str) -> dict[str, Any]:
    """The verdict: audit what this run deleted; fail when anything is left (re-run to retry it)."""
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.migration import audit
    from mip.migration.execute import Execution
    from mip.migration.execute import finish as conclude

    _, channel, account, key, params = _run(channel_id)
    if params.approve_plan_id is None:
        skip("planning run: nothing to execute")
    with mip_db() as conn:
        decision = audit.last_action(conn, params.approve_plan_id, key.run_id)
        # the failed task before finish alerted already
        if decision is None:
            raise TaskFailure(
                f"the run stopped before approve_plan checked plan {params.approve_plan_id}: nothing was deleted; "
                "see the failed task",
                alerted_upstream=True,
            )
        if decision["action"] == "refused":
            raise TaskFailure(f"plan {params.approve_plan_id} refused: {decision['message']}", alerted_upstream=True)
        if decision["action"] == "checked":
            skip(f"dry run: {decision['message']}")
        run = Execution(channel, account, params.approve_plan_id, key.run_id, key.dag_id)
        outcome = conclude(conn, run, approved_by=decision["actor"])
    message = outcome.message(run.plan_id, channel_id)
    print(message)
    if not outcome.settled:
        raise AirflowFailException(message)
    return {"plan_id": run.plan_id, "status": outcome.status, "deleted": len(outcome.deleted_this_run)}


def build(topology: Topology, channel: Channel) -> DAG:
    pool = sp_api_pool(topology.account_of(channel).id)
    with channel_dag(
        "migrate_csv",
        topology,
        channel,
        schedule=None,
        title="CSV-to-MIP migration",
        what=DOC,
        params={
            "dry_run": Param(
                True,
                type="boolean",
                description="Plan only, delete nothing (the default). Deleting "
                "needs dry_run = false and approve_plan_id.",
            ),
            "max_delete_fraction": Param(
                None,
                type=["null", "number"],
                minimum=0,
                maximum=1,
                description="The most a plan may delete, as a share of the marketplace's "
                f"listings (0.2 = 20%); a bigger plan is refused. Empty: {DEFAULT_MAX_DELETE_FRACTION} when "
                "planning, the plan's own when approving.",
            ),
            "source": Param(
                "",
                type="string",
                description="'report' (Amazon's GET_MERCHANT_LISTINGS_ALL_DATA "
                "for this marketplace) or the seller's listings file, a name or path inside the imports directory "
                "(MIP_IMPORTS_DIR, default .local/imports): tab- or comma-separated, Amazon's column names, UTF-8 or "
                "Latin-1/cp1252. Empty: 'report' when planning, what the plan was made from when approving.",
            ),
            "approve_plan_id": Param(
                "",
                type="string",
                description="The plan to execute (printed by a dry run, e.g. it-1a2b3c4d). Empty: make a new plan.",
            ),
            "max_plan_age_days": Param(
                7, type="integer", minimum=1, description="A plan older than this is stale and refused: make a new one."
            ),
            "actor": Param(
                "",
                type="string",
                description="Who approves, recorded in the audit when Airflow does not know the triggering user.",
            ),
        },
    ) as dag:
        requested = request_listings.override(pool=pool)(channel.id)
        waited = wait_listings.override(pool=pool)(channel.id)
        staged = stage_listings.override(pool=pool)(channel.id)
        gated = gate_listings(channel.id)
        chosen = choose(channel.id)
        planned = make_plan(channel.id)
        approved = approve_plan(channel.id)
        submitted = submit_deletes.override(pool=pool)(channel.id)
        fed = wait_feeds.override(pool=pool)(channel.id)
        applied = apply_results.override(pool=pool)(channel.id)
        verified = verify_deleted.override(pool=pool)(channel.id)
        finished = finish(channel.id)
        check_channel(channel.id) >> requested >> waited >> staged >> gated >> chosen
        chosen >> [planned, approved]
        approved >> submitted >> fed >> applied >> verified >> finished
    return dag
