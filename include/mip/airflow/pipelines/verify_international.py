"""``mip_verify_international__<channel>``: check that Amazon copied the main channel's offers."""

from __future__ import annotations

from airflow.sdk import DAG

from mip.airflow.common import channel_dag, check_channel
from mip.config import Channel, Topology


def build(topology: Topology, channel: Channel) -> DAG:
    with channel_dag(
        "verify_international",
        topology,
        channel,
        schedule="@daily",
        title="International Listing verification",
        what="Checks that the offers of the linked main channel exist in this marketplace. MIP never "
        "publishes here: Amazon's Build International Listings copies the offers.",
    ) as dag:
        check_channel(channel.id)
    return dag
