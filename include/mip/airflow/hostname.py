"""``[core] hostname_callable`` of ``make up``: the address its log servers listen on.

Airflow records this name as a task instance's ``hostname`` (and the triggerer's), and the api-server
reads live logs from ``http://<that name>:<log server port>/log/...``. ``make up`` binds its log
servers to ``MIP_BIND_ADDRESS`` (127.0.0.1 by default), where the machine's own name may not lead
(Debian maps it to 127.0.1.1), so the recorded name is that address; the machine's name when the
servers listen on every address (an IPv6 address in brackets, as a URL needs it).
"""

from __future__ import annotations

import os
import socket

EVERY_ADDRESS = ("0.0.0.0", "::", "")


def bind_address() -> str:
    address = os.environ.get("MIP_BIND_ADDRESS", "127.0.0.1")
    if address in EVERY_ADDRESS:
        return socket.getfqdn()
    return f"[{address}]" if ":" in address else address  # Airflow puts it in a URL as it is
