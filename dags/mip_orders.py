"""mip_orders__<channel>: one DAG per channel (mip.airflow.pipelines.orders)."""

from mip.airflow.factories import channel_dags
from mip.airflow.pipelines.orders import ROLES, build

globals().update(channel_dags("orders", build, ROLES))
