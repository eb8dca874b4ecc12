"""Running the SP-API sandbox from tests and benchmarks.

    with run_sandbox(tmp_path / "spapi") as sandbox:
        demo = sandbox.account("demo")
        client = sandbox.client(Orders, "demo", Marketplaces.IT)
        client.get_orders(CreatedAfter=...)

The server runs as a subprocess on an ephemeral port; its log is ``<state_dir>/sandbox.log``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from sandbox.process import started_server

# Test clients open a fresh connection per call. uvicorn closes a connection idle for its keep-alive
# timeout (5 s), and a test that waited on a DAG run longer than that could send on a socket the
# server was closing ("Server disconnected without sending a response"). A new connection cannot race.
NO_KEEPALIVE = httpx.Limits(max_keepalive_connections=0)


class SandboxError(RuntimeError):
    pass


class Sandbox:
    def __init__(self, process: subprocess.Popen, port: int, state_dir: Path) -> None:
        self.process = process
        self.port = port
        self.state_dir = state_dir
        self.base_url = f"http://127.0.0.1:{port}"
        self._http = httpx.Client(base_url=self.base_url, timeout=120, limits=NO_KEEPALIVE)

    # --- admin API ------------------------------------------------------------------------------
    def admin(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """Call ``/_sandbox/<path>``; returns the JSON body, raises SandboxError on an error status."""
        url = path if path.startswith("/") else f"/_sandbox/{path}"
        response = self._http.request(method, url, json=json, params=params)
        if response.status_code >= 400:
            raise SandboxError(f"{method} {url} -> {response.status_code}: {response.text}")
        return response.json()

    def accounts(self) -> list[dict[str, Any]]:
        return self.admin("GET", "accounts")

    def account(self, name: str) -> dict[str, Any]:
        for account in self.accounts():
            if account["account"] == name or account["seller_id"] == name:
                return account
        raise SandboxError(f"the sandbox has no account {name!r}")

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        return self.admin("POST", "faults", json=faults)

    def reset_faults(self) -> dict[str, Any]:
        return self.admin("DELETE", "faults")

    def held(self, operation: str) -> int:
        """Calls of ``operation`` waiting now under the ``hold`` fault."""
        return self.admin("GET", "faults")["held"].get(operation, 0)

    def release(self, operation: str, outcome: str = "proceed") -> int:
        """Stop holding ``operation``: its waiting calls go on (``proceed``) or get a 503 that changed
        nothing (``drop``). Returns how many were waiting."""
        return self.admin("POST", "faults/release", json={"operation": operation, "outcome": outcome})["released"]

    def tick(self) -> None:
        """Run the background worker's step now (due feeds, reports, BIL copies, order changes)."""
        self.admin("POST", "tick")

    # --- python-amazon-sp-api pointed at the sandbox -------------------------------------------
    def lwa_client_class(self) -> type:
        """An ``sp_api.auth.AccessTokenClient`` subclass whose LWA endpoint is the sandbox."""
        from sp_api.auth import AccessTokenClient

        return type(
            "SandboxAccessTokenClient", (AccessTokenClient,), {"scheme": "http://", "host": f"127.0.0.1:{self.port}"}
        )

    def credentials(self, account: str | dict[str, Any]) -> dict[str, str]:
        found = self.account(account) if isinstance(account, str) else account
        return {"lwa_app_id": found["lwa_client_id"], "lwa_client_secret": found["lwa_client_secret"]}

    def client(
        self,
        api_class: type,
        account: str | dict[str, Any],
        marketplace: Any,
        refresh_token: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """A python-amazon-sp-api client of ``api_class`` for an account, talking to the sandbox."""
        found = self.account(account) if isinstance(account, str) else account
        client = api_class(
            marketplace=marketplace,
            credentials=self.credentials(found),
            refresh_token=refresh_token or found["refresh_token"],
            auth_token_client_class=self.lwa_client_class(),
            **kwargs,
        )
        client.endpoint = self.base_url
        return client

    def close(self) -> None:
        self._http.close()


def forget_access_tokens() -> None:
    """Empty python-amazon-sp-api's module-level access-token caches (keyed by refresh token; the grantless one
    by client id and scope: two sandboxes of one seed share the client id, not the tokens)."""
    from sp_api.auth import access_token_client

    access_token_client.cache.clear()
    access_token_client.grantless_cache.clear()


@contextmanager
def run_sandbox(
    state_dir: Path | str,
    *,
    time_scale: float = 60.0,
    seed: int = 1,
    demo: bool = True,
    extra_args: Sequence[str] = (),
    startup_timeout: float = 60.0,
) -> Iterator[Sandbox]:
    """Start ``python -m sandbox.spapi`` on an ephemeral port, wait for health, stop it on exit."""
    state_dir = Path(state_dir)
    args = ["--time-scale", str(time_scale), "--seed", str(seed), *([] if demo else ["--no-demo"]), *extra_args]
    server = started_server(
        "sandbox.spapi",
        state_dir,
        args,
        log_name="sandbox.log",
        healthy=lambda url: httpx.get(f"{url}/_sandbox/health", timeout=2).json().get("ok"),
        startup_timeout=startup_timeout,
    )
    with server as (process, port):
        sandbox = Sandbox(process, port, state_dir)
        try:
            yield sandbox
        finally:
            sandbox.close()
