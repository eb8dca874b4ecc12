"""``mip_account_health`` (daily): one check task per seller account of the topology."""

from __future__ import annotations

from airflow.sdk import DAG, task

from mip.airflow.alerts import failure_alerts
from mip.airflow.common import DEFAULT_ARGS, START_DATE, sp_api_pool
from mip.airflow.docs import pipeline_doc
from mip.config import Topology


@task(retries=2)
def check_account_health(account_id: str) -> str:
    """Check the account and record the result; a failed check fails at once, a warning is alerted."""
    from airflow.sdk import get_current_context

    from mip.airflow.adapter import run_account_step
    from mip.airflow.alerts import send_warning
    from mip.airflow.alerts.delivery import AlertNotDelivered, AlertSettingsError
    from mip.airflow.errors import TaskFailure
    from mip.amazon.health import check_and_record

    report = run_account_step(check_and_record, account_id, gateway=True)  # failed: alerted by on_failure_callback
    if report.warnings:
        try:
            send_warning(get_current_context(), "\n".join(report.warnings), account=account_id)
        except (AlertNotDelivered, AlertSettingsError) as exc:  # an unheard warning is a failure
            raise TaskFailure(f"{report.message}\n{exc}") from None
    return report.status


def build(topology: Topology) -> DAG:
    with DAG(
        dag_id="mip_account_health",
        schedule="@daily",
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["pipeline:account_health"] + [f"account:{a.id}" for a in topology.accounts],
        doc_md=pipeline_doc("account_health"),
    ) as dag:
        for account in sorted(topology.accounts, key=lambda a: a.id):
            check_account_health.override(
                task_id=f"check__{account.id}",
                pool=sp_api_pool(account.id),
                on_failure_callback=failure_alerts(account=account.id),
            )(account.id)
    return dag
