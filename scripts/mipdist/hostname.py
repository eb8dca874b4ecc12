"""``[core] hostname_callable`` for Celery workers sharing one machine in the distributed test.

Airflow records ``task_instance.hostname`` from this callable. Workers on separate machines (or
containers) differ by their host name already; the harness starts its workers on one machine, so each
gets ``MIP_WORKER_HOSTNAME`` and the recorded host names tell which worker ran which task.
"""

from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    return os.environ.get("MIP_WORKER_HOSTNAME") or socket.getfqdn()
