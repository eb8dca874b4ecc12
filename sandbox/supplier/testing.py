"""Running the supplier stand-in from tests, benchmarks and ``make up``.

with run_supplier(tmp_path / "supplier", api_key="k") as supplier:
    client = supplier.client()          # pybigbuy's BigBuy, base_url = the stand-in
    supplier.admin("POST", "faults", json={"error_5xx": 2})
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from sandbox.testing import NO_KEEPALIVE

ROOT = Path(__file__).resolve().parents[2]


class Supplier:
    def __init__(self, process: subprocess.Popen, port: int, api_key: str) -> None:
        self.process, self.port, self.api_key = process, port, api_key
        self.base_url = f"http://127.0.0.1:{port}/rest"
        self._http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=NO_KEEPALIVE)

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        response = self._http.request(method, f"/_supplier/{path}", json=json)
        response.raise_for_status()
        return response.json()

    def truth(self) -> dict[str, Any]:
        return self.admin("GET", "orders")

    def client(self):
        from bigbuy import BigBuy

        client = BigBuy(self.api_key, timeout=30)
        client.base_url = self.base_url
        return client

    def close(self) -> None:
        self._http.close()


@contextmanager
def run_supplier(
    state_dir: Path | str,
    *,
    api_key: str = "test-supplier-key",
    time_scale: float = 60.0,
    extra_args: Sequence[str] = (),
    startup_timeout: float = 60.0,
) -> Iterator[Supplier]:
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    port_file = state_dir / "port"
    port_file.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "sandbox.supplier",
        "--port",
        "0",
        "--state",
        str(state_dir),
        "--time-scale",
        str(time_scale),
        "--api-key",
        api_key,
        *extra_args,
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    log = open(state_dir / "supplier.log", "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    supplier = None
    try:
        deadline = time.monotonic() + startup_timeout
        while supplier is None:
            if process.poll() is not None:
                raise RuntimeError(f"the supplier stand-in exited; see {state_dir / 'supplier.log'}")
            if port_file.exists() and port_file.read_text().strip():
                port = int(port_file.read_text())
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/_supplier/health", timeout=2).json().get("ok"):
                        supplier = Supplier(process, port, api_key)
                        break
                except (httpx.HTTPError, ValueError):
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError("the supplier stand-in did not start in time")
            time.sleep(0.1)
        yield supplier
    finally:
        if supplier is not None:
            supplier.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
