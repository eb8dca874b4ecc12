"""mip_catalog_sync: the hourly supplier catalog ingest DAG (see mip.airflow.pipelines.catalog_sync)."""

from mip.airflow.factories import single_dag

globals().update(single_dag("catalog_sync"))
