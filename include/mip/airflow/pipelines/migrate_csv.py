"""``mip_migrate_csv__<channel>``: find and delete CSV-era duplicate listings (manual runs)."""

from __future__ import annotations

from airflow.sdk import DAG

from mip.airflow.common import channel_dag, check_channel
from mip.config import Channel, Topology


def build(topology: Topology, channel: Channel) -> DAG:
    with channel_dag(
        "migrate_csv",
        topology,
        channel,
        schedule=None,
        title="CSV-to-MIP migration",
        what="Finds listings uploaded by CSV that duplicate MIP-managed products and deletes them "
        "once a plan is approved.",
    ) as dag:
        check_channel(channel.id)
    return dag
