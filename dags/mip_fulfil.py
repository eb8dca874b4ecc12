"""mip_fulfil__<channel>: one DAG per channel (see mip.airflow.pipelines.fulfil)."""

from mip.airflow.factories import channel_dags
from mip.airflow.pipelines.fulfil import ROLES, build

globals().update(channel_dags("fulfil", build, ROLES))
