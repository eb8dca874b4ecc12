"""The run identity of every pipeline, and the two outcomes a domain step can end with besides success.

A domain step is a plain function ``step(key, conn, [gateway], **params) -> summary``: ``key`` says which
channel, Airflow run and seller the rows it writes belong to (``RunKey``; ``AccountRunKey`` for the few
pipelines that work on a whole account or the whole deployment), ``conn`` is a ``psycopg`` connection to the mip
database (committed by the caller), ``gateway`` the account's ``SpApiGateway`` when the step calls Amazon.
``mip.airflow.adapter`` builds these from a task's context; tests and benches call steps directly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mip.config import Account, Channel


@dataclass(frozen=True)
class RunKey:
    """One run of one pipeline on one channel: the stage key of every row the run writes."""

    channel: Channel
    run_id: str
    dag_id: str | None = None
    task_id: str | None = None
    seller_id: str | None = None  # the Seller ID the run reads with, where it matters (orders)

    @property
    def channel_id(self) -> str:
        return self.channel.id

    @property
    def account_id(self) -> str:
        return self.channel.account

    @property
    def country(self) -> str:
        return self.channel.country

    @property
    def marketplace_id(self) -> str:
        return self.channel.marketplace.marketplace_id

    @property
    def params(self) -> dict[str, str]:
        """The key as SQL parameters (``%(channel)s``, ``%(run)s``)."""
        return {"channel": self.channel.id, "run": self.run_id}

    def for_seller(self, seller_id: str) -> RunKey:
        return replace(self, seller_id=seller_id)

    def for_task(self, task_id: str) -> RunKey:
        return replace(self, task_id=task_id)


@dataclass(frozen=True)
class AccountRunKey:
    """One run of a pipeline on a whole seller account (repair, account health) or, ``account`` None, on the
    whole deployment (the supplier catalog)."""

    account: Account | None
    channels: tuple[Channel, ...]  # the account's channels (all of them for the deployment), by id
    run_id: str
    dag_id: str | None = None
    task_id: str | None = None

    @property
    def account_id(self) -> str | None:
        return self.account.id if self.account else None


class StepSkipped(Exception):
    """The step has nothing to do: the task is skipped and the reason shown where the user looks."""


class StepFailed(Exception):
    """A failure no retry mends. ``fix`` says what the user does about it (it reaches the alert);
    ``alerted_upstream``: an earlier task of the same run failed, and alerted, for the same reason."""

    def __init__(
        self, message: str, *, fix: str | None = None, plan_id: str | None = None, alerted_upstream: bool = False
    ):
        super().__init__(message)
        self.fix, self.plan_id, self.alerted_upstream = fix, plan_id, alerted_upstream
