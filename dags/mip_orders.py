"""mip_orders__<channel>: one DAG per channel (see mip.airflow.pipelines.orders)."""

from mip.airflow.factories import channel_dags

globals().update(channel_dags("orders"))
