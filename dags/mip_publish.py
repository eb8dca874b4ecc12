"""mip_publish__<channel>: one DAG per main channel (mip.airflow.pipelines.publish)."""

from mip.airflow.factories import channel_dags
from mip.airflow.pipelines.publish import ROLES, build

globals().update(channel_dags("publish", build, ROLES))
