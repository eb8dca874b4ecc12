"""Everything the Marketplaces page shows, gathered in the api-server process.

Sources: the topology (accounts, channels), ``mip.channel_registry`` (deployed role and link),
each account's ``amazon_sp_api`` connection (Seller ID, authorization date; never its secrets),
``mip.account_health`` (last check) and Airflow's metadata DB through its ORM (the channel DAGs'
last runs, filtered to the DAGs the user may read).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import psycopg

from mip.airflow.page import connections
from mip.amazon.health import WARN_AFTER_DAYS, authorization_age_advice
from mip.config import Account, Channel, Topology
from mip.store import registry

RUNS_PER_DAG = 3


@dataclass(frozen=True)
class RunView:
    run_id: str
    state: str
    when: datetime | None
    url: str


@dataclass(frozen=True)
class DagView:
    dag_id: str
    url: str
    runs: list[RunView]


@dataclass
class AccountView:
    account: Account
    connection: connections.ConnectionInfo
    channels: list[str]
    age_days: int | None = None
    failure: str | None = None
    warning: str | None = None
    reauthorize_by: date | None = None
    health: dict[str, Any] | None = None
    can_edit: bool = False
    app_id: str | None = None

    @property
    def needs_app_credentials(self) -> bool:
        return not self.connection.has_app_credentials


@dataclass
class ChannelActivity:
    """What a channel did lately: listings (mip.listings), orders and their last import
    (mip.orders, mip.order_intervals), the last successful publish run (Airflow)."""

    listings_live: int = 0
    listings_rejected: int = 0
    orders_24h: int = 0
    last_import: datetime | None = None
    last_publish: datetime | None = None
    fulfilment: dict[str, Any] = field(default_factory=dict)  # waiting per step, at_risk (mip.fulfilment.risk)
    # orders the hourly imports of the last 24 hours found that ORDER_CHANGE events had not brought
    # (mip.order_intervals.missed_by_events; None: the account has no event subscription)
    missed_by_events: int | None = None


@dataclass
class ChannelView:
    channel: Channel
    account: Account
    registered: registry.RegisteredChannel | None
    conflict: str | None
    dags: list[DagView] = field(default_factory=list)
    activity: ChannelActivity = field(default_factory=ChannelActivity)


@dataclass
class Overview:
    topology_file: str
    accounts: list[AccountView]
    channels: list[ChannelView]


def account_views(topology: Topology, mip_conn: psycopg.Connection, now: datetime | None = None) -> list[AccountView]:
    now = now or datetime.now(UTC)
    health = {
        row[0]: {"status": row[1], "checked_at": row[2], "message": row[3]}
        for row in mip_conn.execute(
            "SELECT DISTINCT ON (account_id) account_id, status, checked_at, message FROM mip.account_health"
            " ORDER BY account_id, checked_at DESC, id DESC"
        ).fetchall()
    }
    views = []
    for account in topology.accounts:
        info = connections.read(account.connection_id)
        view = AccountView(
            account, info, [c.id for c in topology.channels if c.account == account.id], health=health.get(account.id)
        )
        if info.authorized:
            view.age_days = info.age_days(now)
            view.failure, view.warning = authorization_age_advice(account.id, view.age_days)
            if info.authorized_at is not None:
                view.reauthorize_by = (info.authorized_at + timedelta(days=WARN_AFTER_DAYS)).date()
        views.append(view)
    return views


def channel_views(topology: Topology, mip_conn: psycopg.Connection) -> list[ChannelView]:
    registered = registry.read(mip_conn)
    views = []
    for channel in topology.channels:
        known = registered.get(channel.id)
        changed = known is not None and (known.role, known.linked_main) != (channel.role, channel.linked_main)
        conflict = registry.conflict_message(channel, known) if changed and known is not None else None
        views.append(ChannelView(channel, topology.account_of(channel), known, conflict))
    attach_activity(views, mip_conn)
    return views


ACTIVITY_QUERY = """
SELECT c.channel_id,
       (SELECT count(*) FROM mip.listings l WHERE l.channel_id = c.channel_id AND l.status = 'ACCEPTED'),
       (SELECT count(*) FROM mip.listings l WHERE l.channel_id = c.channel_id AND l.status <> 'ACCEPTED'),
       (SELECT count(*) FROM mip.orders o WHERE o.channel_id = c.channel_id
           AND o.purchase_date >= now() - interval '24 hours'),
       (SELECT max(i.finished_at) FROM mip.order_intervals i WHERE i.channel_id = c.channel_id
           AND i.status = 'imported'),
       (SELECT sum(i.missed_by_events) FROM mip.order_intervals i WHERE i.channel_id = c.channel_id
           AND i.finished_at >= now() - interval '24 hours')
FROM unnest(%s::text[]) AS c(channel_id)
"""


def attach_activity(channels: list[ChannelView], mip_conn: psycopg.Connection) -> None:
    """Listings live and rejected, orders of the last 24 hours and the last import, per channel."""
    by_channel = {view.channel.id: view for view in channels}
    for channel_id, live, rejected, orders, imported, missed in mip_conn.execute(ACTIVITY_QUERY, (sorted(by_channel),)):
        by_channel[channel_id].activity = ChannelActivity(live, rejected, orders, imported, missed_by_events=missed)
    from mip.fulfilment.risk import page_summary

    for channel_id, summary in page_summary(mip_conn, sorted(by_channel)).items():
        by_channel[channel_id].activity.fulfilment = summary


def attach_dag_runs(channels: list[ChannelView], readable: set[str], ui_root: str) -> None:
    """The channel DAGs (``mip_<pipeline>__<channel>``) the user may read, with their last runs."""
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    by_channel = {view.channel.id: view for view in channels}
    with create_session() as session:
        dag_ids = sorted(
            dag_id
            for dag_id in session.scalars(
                select(DagModel.dag_id).where(
                    DagModel.dag_id.like("mip\\_%", escape="\\"), DagModel.is_stale.is_(False)
                )
            )
            if dag_id in readable and dag_id.rpartition("__")[2] in by_channel and "__" in dag_id
        )
        ranked = (
            select(
                DagRun.dag_id,
                DagRun.run_id,
                DagRun.state,
                DagRun.run_after,
                DagRun.end_date,
                func.row_number().over(partition_by=DagRun.dag_id, order_by=DagRun.run_after.desc()).label("n"),
            )
            .where(DagRun.dag_id.in_(dag_ids))
            .subquery()
        )
        runs: dict[str, list[RunView]] = defaultdict(list)
        for row in session.execute(
            select(ranked).where(ranked.c.n <= RUNS_PER_DAG).order_by(ranked.c.dag_id, ranked.c.n)
        ):
            runs[row.dag_id].append(
                RunView(
                    row.run_id,
                    str(row.state or "none"),
                    row.end_date or row.run_after,
                    f"{ui_root}dags/{quote(row.dag_id)}/runs/{quote(row.run_id, safe='')}",
                )
            )
        last_success = dict(
            session.execute(
                select(DagRun.dag_id, func.max(DagRun.end_date))
                .where(DagRun.dag_id.in_(dag_ids), DagRun.state == "success")
                .group_by(DagRun.dag_id)
            ).all()
        )
    for dag_id in dag_ids:
        view = DagView(dag_id, f"{ui_root}dags/{quote(dag_id)}", runs[dag_id])
        channel = by_channel[dag_id.rpartition("__")[2]]
        channel.dags.append(view)
        if dag_id.startswith("mip_publish__"):
            channel.activity.last_publish = last_success.get(dag_id)
