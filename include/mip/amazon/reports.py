"""Reports API 2021-06-30 through the gateway: request, poll, download."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mip.amazon import apis
from mip.amazon.gateway import SpApiGateway

DONE_STATUSES = {"DONE", "FATAL", "CANCELLED"}


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
