"""mip_verify_international__<channel>: one DAG per international channel (see its builder, imported below)."""

from mip.airflow.factories import channel_dags
from mip.airflow.pipelines.verify_international import ROLES, build

globals().update(channel_dags("verify_international", build, ROLES))
