"""Reports API 2021-06-30 through the gateway: request, poll, download; ``ReportJob``, the one way every pipeline
requests a report, polls it and reads it, and ``ReportState``, the one meaning of its end states."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mip.amazon import apis
from mip.amazon.errors import AmazonError
from mip.amazon.gateway import SpApiGateway

DONE_STATUSES = {"DONE", "FATAL", "CANCELLED"}
log = logging.getLogger(__name__)


def _reports(gateway: SpApiGateway, country: str):
    return apis.reports(gateway, country)


def create_report(
    gateway: SpApiGateway,
    country: str,
    report_type: str,
    marketplace_ids: list[str],
    start: datetime | None = None,
    end: datetime | None = None,
) -> str:
    body: dict[str, Any] = {"reportType": report_type, "marketplaceIds": marketplace_ids}
    if start is not None:
        body["dataStartTime"] = start.isoformat()
    if end is not None:
        body["dataEndTime"] = end.isoformat()
    response = gateway.call("createReport", lambda: _reports(gateway, country).create_report(**body), country=country)
    return response.payload["reportId"]


def get_report(gateway: SpApiGateway, country: str, report_id: str) -> dict[str, Any]:
    """The report: ``processingStatus`` and, once DONE, ``reportDocumentId``."""
    return gateway.call("getReport", lambda: _reports(gateway, country).get_report(report_id), country=country).payload


def download_report(gateway: SpApiGateway, country: str, document_id: str) -> str:
    """The report document's text (decompressed and decoded by the library)."""
    response = gateway.call(
        "getReportDocument",
        lambda: _reports(gateway, country).get_report_document(document_id, download=True),
        country=country,
    )
    return response.payload["document"]


# --- one report, requested, polled and read the same way by every pipeline ---------------------------------------

REPORT_FIX = "clear the run's request task (or the whole run) to ask Amazon for a new report"


class ReportFatal(AmazonError):
    """A report Amazon could not produce (FATAL), or that did not finish in time: polling again cannot mend it,
    a new request may. Not retryable: the task fails at once with the fix."""

    code = "report_fatal"

    def __init__(self, problem: str):
        super().__init__(problem, REPORT_FIX)


@dataclass(frozen=True)
class ReportState:
    """What getReport said about a report, with the one meaning MIP gives each end state:

    - ``DONE``: the document is ready (``document_id``);
    - ``CANCELLED``: Amazon found no data for the request (its documented reason for cancelling a report it
      produced for a scheduled or a requested window) -> an *empty* report: the run goes on with no rows;
    - ``FATAL``: Amazon could not produce it -> ``ReportFatal``: the step fails at once with ``REPORT_FIX``;
      polling again cannot mend it, a new request may.
    """

    report_id: str
    status: str
    document_id: str | None = None

    @property
    def done(self) -> bool:
        """Finished with a result (DONE, or CANCELLED: empty); FATAL never gets here."""
        return self.status in ("DONE", "CANCELLED")

    @property
    def empty(self) -> bool:
        return self.status == "CANCELLED"


@dataclass(frozen=True)
class ReportJob:
    """One report of one seller account and country: ``request`` it, ``poll`` it (a reschedule-mode sensor in
    the DAGs, a loop in ``wait``), ``read`` its text. ``what`` names it in messages ("orders report")."""

    what: str
    report_type: str
    country: str
    marketplace_ids: tuple[str, ...]
    start: datetime | None = None
    end: datetime | None = None

    def request(self, gateway: SpApiGateway) -> str:
        return create_report(gateway, self.country, self.report_type, list(self.marketplace_ids), self.start, self.end)

    def poll(self, gateway: SpApiGateway, report_id: str) -> ReportState:
        """One getReport; ``ReportFatal`` when the report ended FATAL."""
        found = get_report(gateway, self.country, report_id)
        state = ReportState(report_id, found.get("processingStatus", ""), found.get("reportDocumentId"))
        log.info("%s %s: %s", self.what, report_id, state.status)
        if state.status == "FATAL":
            raise ReportFatal(f"Amazon could not produce {self.what} {report_id} (FATAL)")
        return state

    def read(self, gateway: SpApiGateway, report_id: str) -> str:
        """The text of a finished report: its document when DONE, ``""`` when CANCELLED (no data)."""
        return self.text(gateway, self.poll(gateway, report_id))

    def text(self, gateway: SpApiGateway, state: ReportState) -> str:
        """The text of the report ``state`` says is finished (``""`` for CANCELLED)."""
        if state.empty:
            log.info("%s %s CANCELLED: Amazon had no data for it, read as empty", self.what, state.report_id)
            return ""
        if not state.done or state.document_id is None:
            raise ReportFatal(f"{self.what} {state.report_id} is {state.status}, not done")
        text = download_report(gateway, self.country, state.document_id)
        return text.decode("utf-8") if isinstance(text, bytes) else text

    def wait(self, gateway: SpApiGateway, report_id: str, poll_seconds: float, timeout: float = 6 * 3600) -> float:
        """Poll until the report is done, sleeping between polls (command line, benches, tests; DAGs use a
        reschedule-mode sensor). Returns the seconds slept."""
        deadline = time.monotonic() + timeout
        slept = 0.0
        while not self.poll(gateway, report_id).done:
            if time.monotonic() > deadline:
                raise ReportFatal(f"{self.what} {report_id} still not done after {timeout:.0f} s")
            time.sleep(poll_seconds)
            slept += poll_seconds
        return slept
