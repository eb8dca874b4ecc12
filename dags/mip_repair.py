"""mip_repair__<account>: re-runs the order imports that failed while the account's credentials were invalid
(mip.airflow.pipelines.repair); scheduled on the account's credentials Asset."""

from mip.airflow.factories import account_dags
from mip.airflow.pipelines.repair import build

globals().update(account_dags("repair", build))
