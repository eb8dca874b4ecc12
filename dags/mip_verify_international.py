"""mip_verify_international__<channel>: one DAG per channel (see mip.airflow.pipelines.verify_international)."""

from mip.airflow.factories import channel_dags

globals().update(channel_dags("verify_international"))
