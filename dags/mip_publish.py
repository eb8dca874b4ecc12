"""mip_publish__<channel>: one DAG per channel (see mip.airflow.pipelines.publish)."""

from mip.airflow.factories import channel_dags

globals().update(channel_dags("publish"))
