"""Running the supplier stand-in from tests, benchmarks and ``make up``.

with run_supplier(tmp_path / "supplier", api_key="k") as supplier:
    client = supplier.client()          # pybigbuy's BigBuy, base_url = the stand-in
    supplier.admin("POST", "faults", json={"error_5xx": 2})
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from sandbox.process import started_server
from sandbox.testing import NO_KEEPALIVE


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
    """Start ``python -m sandbox.supplier`` on an ephemeral port, wait for health, stop it on exit."""
    server = started_server(
        "sandbox.supplier",
        Path(state_dir),
        ["--time-scale", str(time_scale), "--api-key", api_key, *extra_args],
        log_name="supplier.log",
        healthy=lambda url: httpx.get(f"{url}/_supplier/health", timeout=2).json().get("ok"),
        startup_timeout=startup_timeout,
    )
    with server as (process, port):
        supplier = Supplier(process, port, api_key)
        try:
            yield supplier
        finally:
            supplier.close()
