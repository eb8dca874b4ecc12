"""mip_catalog_sync: the hourly supplier catalog ingest DAG (mip.airflow.pipelines.catalog_sync)."""

from mip.airflow.factories import single_dag
from mip.airflow.pipelines.catalog_sync import build

globals().update(single_dag("catalog_sync", build))
