"""Starting a stand-in server (SP-API sandbox, supplier, SQS) as a subprocess on an ephemeral port.

Each server takes ``--port 0 --state DIR``, binds a free port and writes it to ``DIR/port`` before it
serves; :func:`started_server` waits for that file and for the server's health answer, and stops the
process on exit. The server's output goes to ``DIR/<log_name>``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


class ServerStartError(RuntimeError):
    pass


@contextmanager
def started_server(
    module: str,
    state_dir: Path,
    args: Sequence[str],
    *,
    log_name: str,
    healthy: Callable[[str], bool],
    startup_timeout: float = 60.0,
) -> Iterator[tuple[subprocess.Popen, int]]:
    """Run ``python -m <module> --port 0 --state <state_dir> <args>``; yield (process, port) once
    ``healthy("http://127.0.0.1:<port>")`` is true. A transport error counts as not yet healthy."""
    state_dir.mkdir(parents=True, exist_ok=True)
    port_file = state_dir / "port"
    port_file.unlink(missing_ok=True)
    log_path = state_dir / log_name
    command = [sys.executable, "-m", module, "--port", "0", "--state", str(state_dir), *args]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        port = _wait_until_healthy(process, port_file, healthy, startup_timeout, f"{module} (see {log_path})")
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def _wait_until_healthy(
    process: subprocess.Popen, port_file: Path, healthy: Callable[[str], bool], timeout: float, what: str
) -> int:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise ServerStartError(f"{what} exited with code {process.returncode}")
        written = port_file.read_text().strip() if port_file.exists() else ""
        if written:
            port = int(written)
            try:
                if healthy(f"http://127.0.0.1:{port}"):
                    return port
            except (httpx.HTTPError, ValueError):
                pass
        if time.monotonic() > deadline:
            raise ServerStartError(f"{what} did not become healthy within {timeout:.0f}s")
        time.sleep(0.05)
