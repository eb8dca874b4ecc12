"""mip_fulfil__<channel>: one DAG per channel (see mip.airflow.pipelines.fulfil)."""

from mip.airflow.factories import channel_dags

globals().update(channel_dags("fulfil"))
