"""mip_migrate_csv__<channel>: one DAG per main channel (mip.airflow.pipelines.migrate_csv)."""

from mip.airflow.factories import channel_dags
from mip.airflow.pipelines.migrate_csv import ROLES, build

globals().update(channel_dags("migrate_csv", build, ROLES))
