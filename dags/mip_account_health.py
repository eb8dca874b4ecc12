"""mip_account_health: daily credentials and marketplace checks per account (mip.airflow.pipelines.account_health)."""

from mip.airflow.factories import single_dag

globals().update(single_dag("account_health"))
