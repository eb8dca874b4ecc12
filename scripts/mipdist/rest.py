"""The little of Airflow's REST API (``/api/v2``) the harness needs: trigger, wait, read task instances."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import httpx

TERMINAL_RUN_STATES = {"success", "failed"}


class ApiError(RuntimeError):
    pass


@dataclass(frozen=True)
class TaskRecord:
    dag_id: str
    task_id: str
    map_index: int
    state: str | None
    hostname: str | None
    try_number: int


class AirflowApi:
    def __init__(self, base_url: str, username: str, password: str, check: Callable[[], None]) -> None:
        """``check`` is called while waiting (the supervisor's liveness check) so a crash fails fast."""
        self.base_url = base_url.rstrip("/")
        self.username, self.password = username, password
        self.check = check
        self.client = httpx.Client(base_url=self.base_url, timeout=30)

    def close(self) -> None:
        self.client.close()

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            try:
                if self.client.get("/api/v2/monitor/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            raise ApiError(f"the api-server at {self.base_url} did not become healthy within {timeout:.0f}s")
        response = self.client.post("/auth/token", json={"username": self.username, "password": self.password})
        if response.status_code != 201:
            raise ApiError(f"login as {self.username} failed: {response.status_code} {response.text}")
        self.client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def _json(self, method: str, path: str, **kwargs) -> dict:
        response = self.client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ApiError(f"{method} {path}: {response.status_code} {response.text[:1000]}")
        return response.json()

    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float) -> None:
        """Until the dag-processor has serialized every DAG; fail at once on an import error."""
        wanted = set(dag_ids)
        deadline = time.monotonic() + timeout
        while True:
            self.check()
            errors = self._json("GET", "/api/v2/importErrors")["import_errors"]
            if errors:
                details = "\n".join(f"{e['filename']}: {e['stack_trace'][-800:]}" for e in errors)
                raise ApiError(f"DAG import errors:\n{details}")
            known = {d["dag_id"] for d in self._json("GET", "/api/v2/dags", params={"limit": 1000})["dags"]}
            if wanted <= known:
                return
            if time.monotonic() > deadline:
                raise ApiError(f"DAGs not parsed within {timeout:.0f}s: {sorted(wanted - known)}")
            time.sleep(2)

    def pools(self) -> dict[str, int]:
        return {p["name"]: p["slots"] for p in self._json("GET", "/api/v2/pools")["pools"]}

    def trigger(self, dag_id: str, run_id: str, logical_date: datetime, conf: dict | None = None) -> None:
        body = {"dag_run_id": run_id, "logical_date": logical_date.isoformat(), "conf": conf or {}}
        self._json("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body)

    def wait_for_runs(self, runs: Iterable[tuple[str, str]], timeout: float) -> dict[tuple[str, str], str]:
        """Poll until every (dag_id, run_id) is success or failed; returns their states."""
        pending = set(runs)
        states: dict[tuple[str, str], str] = {}
        deadline = time.monotonic() + timeout
        while pending:
            self.check()
            for dag_id, run_id in sorted(pending):
                state = self._json("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
                if state in TERMINAL_RUN_STATES:
                    states[(dag_id, run_id)] = state
                    pending.discard((dag_id, run_id))
            if pending and time.monotonic() > deadline:
                raise ApiError(f"DAG runs still running after {timeout:.0f}s: {sorted(pending)}")
            if pending:
                time.sleep(2)
        return states

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskRecord]:
        data = self._json("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})
        return [
            TaskRecord(dag_id, t["task_id"], t["map_index"], t["state"], t["hostname"], t["try_number"])
            for t in data["task_instances"]
        ]
