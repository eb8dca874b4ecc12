"""mip_migrate_csv__<channel>: one DAG per channel (see mip.airflow.pipelines.migrate_csv)."""

from mip.airflow.factories import channel_dags

globals().update(channel_dags("migrate_csv"))
