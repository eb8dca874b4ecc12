"""Airflow's task log server on one address: ``python -m mip.airflow.log_server --host H --port P [--port P2]``.

Airflow 3.3 starts its log server inside ``airflow scheduler`` and ``airflow triggerer`` (and Celery
workers) unless they get ``--skip-serve-logs``, and it listens on every address: ``serve_logs`` in
``airflow/utils/serve_logs/core.py`` runs uvicorn with ``host=""``, and no setting changes that (only
the ports: ``[logging] worker_log_server_port``, ``trigger_log_server_port``). ``make up`` therefore
starts the scheduler and the triggerer with ``--skip-serve-logs`` and runs this instead: the same
application (``airflow.utils.serve_logs.log_server``, which serves ``[logging] base_log_folder`` only to
requests carrying a token signed with ``[api] secret_key``), on the address given and one socket per
port, in one process. The api-server fetches a running task's log from
``http://<task instance hostname>:<worker_log_server_port>/log/...`` and a deferred one's trigger log
from the triggerer's port, so the host name Airflow records must reach this address
(``mip.airflow.hostname.bind_address``).
"""

from __future__ import annotations

import argparse
import logging
import socket

log = logging.getLogger(__name__)


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"the log server cannot listen on {host}:{port}: {exc}") from None
    return sock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mip.airflow.log_server", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, action="append", required=True, help="a port to listen on (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    sockets = [listening_socket(args.host, port) for port in args.port]  # a taken port fails before the slow imports

    import uvicorn
    from airflow.utils.serve_logs.log_server import get_app

    log.info("serving task logs on %s", ", ".join(f"http://{args.host}:{port}" for port in args.port))
    config = uvicorn.Config(get_app(), log_config=None, access_log=False, log_level="warning")
    uvicorn.Server(config).run(sockets=sockets)


if __name__ == "__main__":
    main()
