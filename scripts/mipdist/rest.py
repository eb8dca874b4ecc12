"""The little of Airflow's REST API (``/api/v2``) the harness needs: trigger, wait, read task instances.

Made for a loaded machine: reads that time out are asked again (a busy api-server answers late, it
does not lose the answer), a trigger that timed out is asked again and a 409 for its run id taken as
done, and waits for DAG runs fail only when none of their task instances changed for ``timeout``
seconds, not after a fixed time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import httpx

TERMINAL_RUN_STATES = {"success", "failed"}
HTTP_TIMEOUT = httpx.Timeout(120, connect=30)
ATTEMPTS = 4  # of a request that timed out


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
        self.client = httpx.Client(base_url=self.base_url, timeout=HTTP_TIMEOUT)

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

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        """The response, asking again when the api-server took too long (only for requests safe to repeat)."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return self.client.request(method, path, **kwargs)
            except httpx.TimeoutException:
                self.check()
                if attempt == ATTEMPTS:
                    raise

    def _json(self, method: str, path: str, **kwargs) -> dict:
        response = self._request(method, path, **kwargs)
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
        """Create the run; asked again when the answer took too long (a 409 then means the first one made it)."""
        body = {"dag_run_id": run_id, "logical_date": logical_date.isoformat(), "conf": conf or {}}
        path = f"/api/v2/dags/{dag_id}/dagRuns"
        try:
            self._json("POST", path, json=body)
        except httpx.TimeoutException:
            response = self._request("POST", path, json=body)
            if response.status_code >= 400 and not (response.status_code == 409 and self._run_exists(dag_id, run_id)):
                raise ApiError(f"POST {path}: {response.status_code} {response.text[:1000]}") from None

    def _run_exists(self, dag_id: str, run_id: str) -> bool:
        return self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").status_code == 200

    def task_progress(self, dag_ids: Iterable[str], runs: Iterable[tuple[str, str]] | None = None) -> list[tuple]:
        """(dag, run, task, map index, state, try) of every task instance of ``dag_ids`` (of ``runs`` only, when
        given): what changes as they advance."""
        body: dict = {"dag_ids": sorted(set(dag_ids)), "page_limit": 1000}
        wanted = set(runs) if runs is not None else None
        if wanted is not None:
            body["dag_run_ids"] = sorted({run_id for _, run_id in wanted})
        found = self._json("POST", "/api/v2/dags/~/dagRuns/~/taskInstances/list", json=body)["task_instances"]
        return sorted(
            (t["dag_id"], t["dag_run_id"], t["task_id"], t["map_index"], t["state"] or "", t["try_number"])
            for t in found
            if wanted is None or (t["dag_id"], t["dag_run_id"]) in wanted
        )

    def wait_for_runs(self, runs: Iterable[tuple[str, str]], timeout: float) -> dict[tuple[str, str], str]:
        """Poll until every (dag_id, run_id) is success or failed; returns their states. Fails when none of
        their task instances changed state for ``timeout`` seconds (however long they take in all)."""
        pending = set(runs)
        states: dict[tuple[str, str], str] = {}
        last_progress: list[tuple] | None = None
        deadline = time.monotonic() + timeout
        while pending:
            self.check()
            for dag_id, run_id in sorted(pending):
                state = self._json("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
                if state in TERMINAL_RUN_STATES:
                    states[(dag_id, run_id)] = state
                    pending.discard((dag_id, run_id))
            if not pending:
                break
            progress = self.task_progress({dag_id for dag_id, _ in pending}, pending)
            if progress != last_progress:
                last_progress, deadline = progress, time.monotonic() + timeout
            elif time.monotonic() > deadline:
                raise ApiError(f"DAG runs with no task progress for {timeout:.0f}s: {sorted(pending)}: {progress}")
            time.sleep(2)
        return states

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskRecord]:
        data = self._json("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})
        return [
            TaskRecord(dag_id, t["task_id"], t["map_index"], t["state"], t["hostname"], t["try_number"])
            for t in data["task_instances"]
        ]
