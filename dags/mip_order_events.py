"""mip_order_events__<account>: imports the orders Amazon's ORDER_CHANGE notifications name (see
mip.airflow.pipelines.order_events); scheduled on the account's SQS queue Asset."""

from mip.airflow.factories import account_dags
from mip.airflow.pipelines.order_events import build

globals().update(account_dags("order_events", build))
