"""mip_offers__<channel>: one DAG per main channel (see mip.airflow.pipelines.offers)."""

from mip.airflow.factories import channel_dags

globals().update(channel_dags("offers"))
