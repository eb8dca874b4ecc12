"""``mip_publish__<channel>``: publish the supplier catalog's selection to a main channel."""

from __future__ import annotations

from airflow.sdk import DAG

from mip.airflow.common import channel_dag, check_channel
from mip.config import Channel, Topology


def build(topology: Topology, channel: Channel) -> DAG:
    with channel_dag(
        "publish",
        topology,
        channel,
        schedule="@daily",
        title="Product publishing",
        what="Selects, prices and publishes the supplier's products to this main channel.",
    ) as dag:
        check_channel(channel.id)
    return dag
