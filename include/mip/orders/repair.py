"""The repair steps of ``mip_repair__<account>``: which order intervals an outage left unimported, and
whether any remain.

Both take an ``AccountRunKey`` (``mip.airflow.adapter.run_account_step``), a connection and the account's
gateway, which gives the Seller ID reading now. An interval belongs to the seller that owned it
(``mip.orders.sellers``); a previous seller's hours are re-run only when its stored authorization works,
which ``authorization_problem`` (opened by the caller, which knows how to reach a previous seller) tells.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from mip.orders import intervals
from mip.orders.intervals import Gap
from mip.orders.sellers import recovery_advice, seller_periods
from mip.runs import AccountRunKey, StepFailed

if TYPE_CHECKING:
    import psycopg

    from mip.amazon.gateway import SpApiGateway

MAX_NEW_RUN_WINDOW = timedelta(days=31)
MAX_IN_PLACE_RERUNS = 48
LISTED = 20
log = logging.getLogger(__name__)


def account_gaps(key: AccountRunKey, conn: psycopg.Connection, current_seller_id: str) -> list[Gap]:
    """The gaps of all the account's channels, for every seller they had."""
    if key.account is None:
        raise ValueError("the repair steps need an account")
    periods = seller_periods(conn, key.account.id, current_seller_id)
    found: list[Gap] = []
    for channel in key.channels:
        found.extend(intervals.gaps(conn, channel.id, channel.orders.schedule, periods))
    return found


def listed(gaps: list[Gap]) -> str:
    shown = "; ".join(g.describe() for g in gaps[:LISTED])
    return f"{len(gaps)} order interval(s): {shown}" + (" ..." if len(gaps) > LISTED else "")


def find_gaps(
    key: AccountRunKey,
    conn: psycopg.Connection,
    gateway: SpApiGateway,
    *,
    authorization_problem: Callable[[str, str], str | None],
) -> list[Gap]:
    """The runs to make (``intervals.repair_plan``) for every interval the owning seller has not imported.

    A previous seller whose stored authorization fails (``authorization_problem(seller_id, country)``, asked in
    the country of the account's first channel, is its reason)
    is left out: the runs that tried its hours get the recovery advice as their error (committed)."""
    current = gateway.credentials.seller_id
    found = account_gaps(key, conn, current)
    runnable = [g for g in found if g.seller_id == current]
    for seller in sorted({g.seller_id for g in found} - {current}):
        own = [g for g in found if g.seller_id == seller]
        problem = authorization_problem(seller, key.channels[0].country)  # a gap implies a channel
        if problem is None:
            log.info("previous Seller ID %s: its stored authorization works, re-running %s gap(s)", seller, len(own))
            runnable += own
            continue
        advice = recovery_advice(str(key.account_id), seller, current, listed(own))
        log.warning("%s. Its stored authorization: %s", advice, problem)
        for gap in own:
            if gap.run_id:
                intervals.record_failure(conn, gap.channel_id, gap.run_id, advice)
    plan = intervals.repair_plan(runnable, MAX_NEW_RUN_WINDOW, MAX_IN_PLACE_RERUNS)
    log.info("%s run(s) to repair for account %s", len(plan), key.account_id)
    return plan


def verify(key: AccountRunKey, conn: psycopg.Connection, gateway: SpApiGateway) -> dict[str, int]:
    """``StepFailed``, naming them, while any order interval of the account is not imported by its seller."""
    current = gateway.credentials.seller_id
    remaining = account_gaps(key, conn, current)
    if not remaining:
        log.info("every order interval of account %s since its channels' first run is imported", key.account_id)
        return {"remaining": 0}
    problems = []
    own = [g for g in remaining if g.seller_id == current]
    if own:
        problems.append(
            f"{listed(own)} of account {key.account_id} (Seller ID {current}) are still not imported. See the failed "
            "mip_orders__<channel> runs (mip.order_intervals.error); once fixed, re-run this DAG"
        )
    for seller in sorted({g.seller_id for g in remaining} - {current}):
        own_of_seller = [g for g in remaining if g.seller_id == seller]
        problems.append(recovery_advice(str(key.account_id), seller, current, listed(own_of_seller)))
    raise StepFailed(" | ".join(problems))
