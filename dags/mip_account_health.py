"""mip_account_health: daily credentials and marketplace checks per account (mip.airflow.pipelines.account_health)."""

from mip.airflow.factories import single_dag
from mip.airflow.pipelines.account_health import build

globals().update(single_dag("account_health", build))
