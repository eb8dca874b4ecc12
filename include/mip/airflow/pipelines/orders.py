"""``mip_orders__<channel>``: import the channel's orders for each data interval."""

from __future__ import annotations

from airflow.sdk import DAG, CronDataIntervalTimetable

from mip.airflow.common import channel_dag, check_channel
from mip.config import Channel, Topology


def build(topology: Topology, channel: Channel) -> DAG:
    with channel_dag(
        "orders",
        topology,
        channel,
        schedule=CronDataIntervalTimetable(channel.orders.schedule, timezone="UTC"),
        max_active_runs=4,
        title="Order import",
        what="Imports the orders Amazon updated in each data interval into `mip.orders`.",
    ) as dag:
        check_channel(channel.id)
    return dag
