"""The task adapter: a task body is one call, ``run_step(step, channel_id, ...)`` (a channel's pipelines) or
``run_account_step(step, account_id, ...)`` (a whole account's, or the deployment's with ``account_id`` None).

It turns the running task's Airflow context into what a domain step takes (``mip.runs``): the run key,
a connection to the mip database (``mip_postgres``; committed when the step returns or skips, rolled back
when it raises) and, when asked, the account's SP-API gateway. Failure semantics are the same in every
pipeline:

- a missing or incomplete ``amazon_sp_api`` connection fails at once (no retries), the fix in the message;
- a permanent Amazon error (revoked token, wrong Seller ID, a FATAL report, ...) fails at once, whether a gateway
  call or the step raised it; throttling and 5xx are retried by the gateway, then by the task's retries;
- ``StepFailed`` fails at once with its fix (alerted); ``StepSkipped`` skips the task with its reason in the
  task's XCom ``skipped_because``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from mip.runs import AccountRunKey, RunKey, StepFailed, StepSkipped

T = TypeVar("T")

CONNECTION_FIX = (
    "connect the account in Multi-Channel > Marketplaces, or fill its amazon_sp_api connection in "
    "Admin > Connections (docs/accounts.md)"
)


def current_key(channel_id: str, seller_id: str | None = None) -> RunKey:
    """The run key of the running task on ``channel_id``."""
    from airflow.sdk import get_current_context

    from mip.config import load_topology

    context = get_current_context()
    return RunKey(
        channel=load_topology().channel(channel_id),
        run_id=context["run_id"],
        dag_id=context["dag"].dag_id,
        task_id=context["task"].task_id,
        seller_id=seller_id,
    )


def current_account_key(account_id: str | None) -> AccountRunKey:
    """The run key of the running task on account ``account_id`` (None: the whole deployment)."""
    from airflow.sdk import get_current_context

    from mip.config import load_topology

    context = get_current_context()
    topology = load_topology()
    channels = sorted(topology.channels, key=lambda c: c.id)
    return AccountRunKey(
        account=topology.account(account_id) if account_id else None,
        channels=tuple(c for c in channels if account_id is None or c.account == account_id),
        run_id=context["run_id"],
        dag_id=context["dag"].dag_id,
        task_id=context["task"].task_id,
    )


@contextmanager
def failures_as_airflow() -> Iterator[None]:
    """``StepFailed`` -> ``TaskFailure`` (fails at once, alerted with its fix)."""
    from mip.airflow.errors import TaskFailure

    try:
        yield
    except StepFailed as exc:
        raise TaskFailure(str(exc), fix=exc.fix, plan_id=exc.plan_id, alerted_upstream=exc.alerted_upstream) from None


SellerChoice = Callable[..., tuple[str, str | None]]


@contextmanager
def account_gateway(
    account: Any, seller_id: str | None = None, advice: str | None = None, choose: Callable[[str], Any] | None = None
) -> Iterator[Any]:
    """The account's gateway (reading for ``seller_id``, default the account's current one; or for the
    ``(seller_id, advice)`` that ``choose(current seller id)`` returns). A missing or incomplete connection, or
    an endpoint the deployment refuses, fails the task at once with the fix."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    from mip.airflow.errors import TaskFailure
    from mip.airflow.hooks.sp_api import SpApiHook, seller_gateway

    try:
        current = SpApiHook(account.connection_id, account.id).credentials().seller_id
    except AirflowNotFoundException:
        raise TaskFailure(
            f"account {account.id} has no amazon_sp_api connection {account.connection_id!r}", fix=CONNECTION_FIX
        ) from None
    except ValueError as exc:  # a missing field, or EndpointRefused
        raise TaskFailure(str(exc), fix=CONNECTION_FIX) from None
    if choose is not None:
        seller_id, advice = choose(current)
    with seller_gateway(account, seller_id or current, advice) as gateway:
        yield gateway


def run_step(
    step: Callable[..., T],
    channel_id: str,
    *,
    gateway: bool = False,
    seller_id: str | None = None,
    seller: SellerChoice | None = None,
    account_id: str | None = None,
    on_failure: Callable[[RunKey, Any, BaseException], None] | None = None,
    **params: Any,
) -> T:
    """Run ``step(key, conn, [gateway], **params)`` for the running task on ``channel_id``.

    ``seller(key, conn, current_seller_id, **params) -> (seller_id, advice)`` picks the Seller ID the gateway
    reads with (orders: the one that owned the run's window); ``key.seller_id`` is then that seller.
    ``account_id``: the gateway of that account instead of the channel's (international: the main channel's).
    ``on_failure(key, conn, error)`` records any failure in the pipeline's own run record (committed on a fresh
    connection, the step's own work rolled back) before the task fails.
    """
    from mip.config import load_topology

    key = current_key(channel_id, seller_id)

    def body(conn: Any) -> T:
        nonlocal key
        if not gateway:
            return step(key, conn, **params)
        topology = load_topology()
        account = topology.account(account_id) if account_id else topology.account_of(key.channel)
        choose = None if seller is None else (lambda current: seller(key, conn, current, **params))
        with account_gateway(account, seller_id, choose=choose) as amazon:
            key = key.for_seller(amazon.credentials.seller_id)
            return step(key, conn, amazon, **params)

    record_failure = None if on_failure is None else (lambda conn, exc: on_failure(key, conn, exc))
    return _in_task(body, record_failure)


def run_account_step(step: Callable[..., T], account_id: str | None, *, gateway: bool = False, **params: Any) -> T:
    """Run ``step(key, conn, [gateway], **params)`` for the running task on a whole account (``key`` an
    ``AccountRunKey``; ``gateway``: the account's, for its current Seller ID) or, ``account_id`` None, on the
    deployment. Same connection, commit and failure semantics as ``run_step``."""
    key = current_account_key(account_id)

    def body(conn: Any) -> T:
        if not gateway:
            return step(key, conn, **params)
        if key.account is None:
            raise ValueError("a deployment-wide step has no account gateway")
        with account_gateway(key.account) as amazon:
            return step(key, conn, amazon, **params)

    return _in_task(body, None)


def _in_task(body: Callable[[Any], T], on_failure: Callable[[Any, BaseException], None] | None) -> T:
    """``body(conn)`` on a mip connection, committed on return or ``StepSkipped`` (the task is then skipped),
    rolled back on an error; ``on_failure(conn, error)`` on a fresh connection before the error propagates."""
    from mip.airflow.common import skip
    from mip.airflow.db import mip_db
    from mip.airflow.errors import amazon_errors

    skipped: StepSkipped | None = None
    try:
        with failures_as_airflow(), amazon_errors(), mip_db() as conn:
            try:
                return body(conn)
            except StepSkipped as exc:
                skipped = exc  # committed: what the step recorded before it found nothing to do is kept
    except BaseException as exc:
        if on_failure is not None:
            with mip_db() as conn:
                on_failure(conn, exc)
        raise
    skip(str(skipped))
