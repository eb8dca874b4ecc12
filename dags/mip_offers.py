"""mip_offers__<channel>: one DAG per main channel (mip.airflow.pipelines.offers)."""

from mip.airflow.factories import channel_dags
from mip.airflow.pipelines.offers import ROLES, build

globals().update(channel_dags("offers", build, ROLES))
