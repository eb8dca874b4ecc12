"""``mip_fulfil__<channel>`` (every 15 minutes, main and International Listing channels): the fulfilment loop.

check_channel -> gate -> send -> track (reschedule-mode sensor) -> confirm -> late_shipment_risk, and
send -> refusals. Every task body is one ``run_step`` call into ``mip.fulfilment`` (docs/fulfilment.md).
"""

from __future__ import annotations

import os
from datetime import timedelta

from airflow.sdk import DAG, task

from mip.airflow.common import channel_dag, check_channel, sp_api_pool
from mip.config import Channel, Topology

TRACK_POKE_SECONDS = float(os.environ.get("MIP_FULFIL_TRACK_POKE_SECONDS", "60"))
# the tracking wait gives up (skipped, not failed) before the next run is due; that run polls again
TRACK_TIMEOUT = timedelta(minutes=14).total_seconds()


def _supplier():
    from mip.airflow.errors import TaskFailure
    from mip.airflow.hooks.supplier import CONNECTION_FIX, SupplierHook

    try:
        return SupplierHook().client()
    except ValueError as exc:  # no key, or a base URL the key may not go to
        raise TaskFailure(str(exc), fix=CONNECTION_FIX) from None


@task
def gate(channel_id: str) -> dict:
    from mip.airflow.adapter import run_step
    from mip.fulfilment.gate import gate as step

    return run_step(step, channel_id)


@task
def send(channel_id: str) -> dict:
    from mip.airflow.adapter import run_step
    from mip.fulfilment.send import send as step

    return run_step(step, channel_id, gateway=True, supplier=_supplier())


@task.sensor(mode="reschedule", poke_interval=TRACK_POKE_SECONDS, timeout=TRACK_TIMEOUT, soft_fail=True)
def track(channel_id: str):
    from airflow.sdk import PokeReturnValue

    from mip.airflow.adapter import run_step
    from mip.fulfilment.track import track as step

    return PokeReturnValue(is_done=run_step(step, channel_id, supplier=_supplier()))


@task(trigger_rule="none_failed")
def confirm(channel_id: str) -> dict:
    from mip.airflow.adapter import run_step
    from mip.fulfilment.confirm import confirm as step

    return run_step(step, channel_id, gateway=True)


@task(trigger_rule="all_done")
def refusals(channel_id: str) -> int:
    from mip.airflow.adapter import run_step
    from mip.fulfilment.risk import refusals as step

    return run_step(step, channel_id)


@task(trigger_rule="all_done")
def late_shipment_risk(channel_id: str) -> int:
    from mip.airflow.adapter import run_step
    from mip.fulfilment.risk import late_shipment_risk as step

    return run_step(step, channel_id)


ROLES = ("main", "international")


def build(topology: Topology, channel: Channel) -> DAG:
    pool = sp_api_pool(channel.account)
    with channel_dag("fulfil", topology, channel, title="Fulfilment", schedule=timedelta(minutes=15)) as dag:
        checked = check_channel(channel.id)
        gated = gate(channel.id)
        sent = send.override(pool=pool)(channel.id)
        tracked = track(channel.id)
        confirmed = confirm.override(pool=pool)(channel.id)
        checked >> gated >> sent >> tracked >> confirmed >> late_shipment_risk(channel.id)
        sent >> refusals(channel.id)
    return dag
