"""What an alert says: the DAG (task, run), the channel or account, the interval or migration plan, the
error and its fix, as an e-mail subject and text and as a webhook's JSON.

The fix comes from the failure itself: MIP's errors end each problem with ``Fix: ...``
(``mip.amazon.errors``) or carry it (``mip.airflow.errors.TaskFailure.fix``). Every text goes through
Airflow's secrets masker first: a secret a task read from a connection never leaves in an alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["failure", "warning"]
FIX_MARK = " Fix: "
MAX_ERROR_CHARS = 3000
GENERIC_FIX = (
    "read the task's log (link below); once the cause is fixed, clear the failed task in the Airflow UI so the "
    "run continues (the DAG's documentation says what each task does)"
)


@dataclass(frozen=True)
class Interval:
    start: str
    end: str
    source: str  # "data interval" or "window (Params)"


@dataclass(frozen=True)
class Alert:
    kind: Kind
    dag_id: str
    task_id: str | None
    run_id: str | None
    channel: str | None
    account: str | None
    interval: Interval | None
    plan_id: str | None
    error: str
    fix: str
    log_url: str | None = None

    @property
    def where(self) -> str:
        if self.channel:
            return f"channel {self.channel}" + (f" (account {self.account})" if self.account else "")
        return f"account {self.account}" if self.account else "the deployment"

    @property
    def subject(self) -> str:
        what = "failed" if self.kind == "failure" else "warns"
        scope = f", plan {self.plan_id}" if self.plan_id else ""
        return f"[MIP] {self.dag_id} {what}: {self.where}{scope}"

    @property
    def text(self) -> str:
        parts = [f"task {self.task_id}" if self.task_id else "", f"run {self.run_id}" if self.run_id else ""]
        task = ", ".join(p for p in parts if p)
        lines = [
            f"MIP {self.kind}: {self.dag_id}" + (f" ({task})" if task else ""),
            f"Where: {self.where}",
        ]
        if self.interval:
            lines.append(f"Interval: {self.interval.start} to {self.interval.end} ({self.interval.source})")
        if self.plan_id:
            lines.append(f"Migration plan: {self.plan_id}")
        lines += [_field("Error" if self.kind == "failure" else "Warning", self.error), _field("Fix", self.fix)]
        if self.log_url:
            lines.append(f"Log: {self.log_url}")
        return "\n".join(lines)

    def payload(self) -> dict[str, Any]:
        """The webhook's JSON; ``text`` is the whole message (what chat webhooks display)."""
        return {
            "text": f"{self.subject}\n{self.text}",
            "kind": self.kind,
            "dag_id": self.dag_id,
            "task_id": self.task_id,
            "run_id": self.run_id,
            "channel": self.channel,
            "account": self.account,
            "interval": self.interval.__dict__ if self.interval else None,
            "plan_id": self.plan_id,
            "error": self.error,
            "fix": self.fix,
            "log_url": self.log_url,
        }


def _field(name: str, value: str) -> str:
    """``Name: value``, or one ``- line`` per line when the value has several (several problems, several fixes)."""
    lines = value.splitlines()
    return f"{name}: {value}" if len(lines) < 2 else f"{name}:\n" + "\n".join(f"- {line}" for line in lines)


def split_fix(message: str) -> tuple[str, str | None]:
    """(the problems, their fixes) of a message whose lines may end with ``Fix: ...``."""
    problems, fixes = [], []
    for line in message.strip().splitlines():
        problem, mark, fix = line.partition(FIX_MARK)
        problems.append(problem.rstrip())
        if mark:
            fixes.append(fix.strip())
    return "\n".join(p for p in problems if p), ("\n".join(fixes) or None)


def _redacted(text: str) -> str:
    from airflow.sdk._shared.secrets_masker import redact

    return str(redact(text))


def _tagged(tags: Any, prefix: str) -> str | None:
    values = sorted(t.removeprefix(prefix) for t in tags or () if t.startswith(prefix))
    return values[0] if len(values) == 1 else None


def _interval(context: Any) -> Interval | None:
    params = context.get("params") or {}
    if params.get("window_start") and params.get("window_end"):
        return Interval(str(params["window_start"]), str(params["window_end"]), "window (Params)")
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None:
        return None
    return Interval(start.isoformat(), end.isoformat(), "data interval")


def _describe(error: BaseException | str | None) -> str:
    if error is None:
        return "the task failed without an error message (e.g. its process was killed); see the log"
    if isinstance(error, str):
        return error
    from airflow.sdk.exceptions import AirflowException

    text = str(error) or type(error).__name__
    return text if isinstance(error, AirflowException) else f"{type(error).__name__}: {text}"


def build_alert(
    context: Any,
    kind: Kind,
    message: BaseException | str | None,
    *,
    channel: str | None = None,
    account: str | None = None,
    fix: str | None = None,
) -> Alert:
    """The alert of a failure (the exception) or a warning (its text) of the running task."""
    dag = context.get("dag")
    ti = context.get("ti")
    params = context.get("params") or {}
    error, found_fix = split_fix(_describe(message))
    fix = getattr(message, "fix", None) or fix or found_fix or GENERIC_FIX
    if len(error) > MAX_ERROR_CHARS:
        error = error[:MAX_ERROR_CHARS] + " ... (cut; the whole message is in the log)"
    tags = getattr(dag, "tags", ())
    plan_id = getattr(message, "plan_id", None) or str(params.get("approve_plan_id") or "").strip() or None
    return Alert(
        kind=kind,
        dag_id=str(getattr(dag, "dag_id", None) or getattr(ti, "dag_id", "?")),
        task_id=getattr(ti, "task_id", None),
        run_id=context.get("run_id"),
        channel=channel or _tagged(tags, "channel:"),
        account=account or _tagged(tags, "account:"),
        interval=_interval(context),
        plan_id=plan_id,
        error=_redacted(error),
        fix=_redacted(fix),
        log_url=getattr(ti, "log_url", None),
    )
