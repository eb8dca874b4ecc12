"""The deployment's sandbox rule: may credentials go to a local stand-in instead of Amazon (or BigBuy, SQS)?

``[mip] allow_sandbox_endpoint`` (``AIRFLOW__MIP__ALLOW_SANDBOX_ENDPOINT``; on in ``make up`` and the tests,
off in the compose deployment) allows loopback URLs, plus the host names of ``[mip] sandbox_endpoint_hosts``
(comma-separated, e.g. ``sandbox`` in docker compose). The checks themselves are Airflow-free
(``mip.amazon.endpoints``, ``mip.fulfilment.supplier``, ``mip.orders.queue``); this module reads the setting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mip.orders.queue import Queue


def sandbox_rule() -> tuple[bool, tuple[str, ...]]:
    """(sandboxes allowed, extra sandbox host names) of this deployment."""
    from airflow.configuration import conf

    hosts = conf.get("mip", "sandbox_endpoint_hosts", fallback="")
    allow = conf.getboolean("mip", "allow_sandbox_endpoint", fallback=False)
    return allow, tuple(h.strip().lower() for h in hosts.split(",") if h.strip())


def configured_queue(url: str) -> Queue:
    """The order-events queue ``url`` checked under the deployment's sandbox rule (``QueueRefused``)."""
    from mip.orders.queue import check_queue_url

    allow, hosts = sandbox_rule()
    return check_queue_url(url, allow_sandbox=allow, sandbox_hosts=list(hosts))
