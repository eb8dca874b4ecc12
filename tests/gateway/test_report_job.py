"""``mip.amazon.reports.ReportJob`` against the sandbox: the one meaning of a report's end states that orders,
international verification and migration share. CANCELLED (Amazon had no data) reads as an empty report; FATAL
fails at once (not retryable) with the fix; DONE reads the document."""

from __future__ import annotations

import pytest

from mip.amazon.reports import REPORT_FIX, ReportFatal, ReportJob


def listings_job(sandbox) -> ReportJob:
    return ReportJob("listings report", "GET_MERCHANT_LISTINGS_ALL_DATA", "IT", ("APJ6JRA9NG5V4",))


def test_a_done_report_reads_its_document(clean_faults, make_gateway):
    gateway = make_gateway(clean_faults)
    job = listings_job(clean_faults)
    report_id = job.request(gateway)
    job.wait(gateway, report_id, poll_seconds=0.2, timeout=60)
    assert job.read(gateway, report_id).startswith("item-name\t")


def test_a_cancelled_report_is_an_empty_report(clean_faults, make_gateway):
    gateway = make_gateway(clean_faults)
    clean_faults.set_faults(cancelled_reports=1)
    job = listings_job(clean_faults)
    report_id = job.request(gateway)
    job.wait(gateway, report_id, poll_seconds=0.2, timeout=60)
    state = job.poll(gateway, report_id)
    assert (state.status, state.done, state.empty, state.document_id) == ("CANCELLED", True, True, None)
    assert job.read(gateway, report_id) == ""
    assert clean_faults.admin("GET", "faults")["cancelled_reports"] == 0, "the fault is consumed by one report"


def test_a_fatal_report_fails_at_once_with_the_fix(clean_faults, make_gateway):
    gateway = make_gateway(clean_faults)
    clean_faults.set_faults(fatal_reports=1)
    job = listings_job(clean_faults)
    report_id = job.request(gateway)
    with pytest.raises(ReportFatal) as failed:
        job.wait(gateway, report_id, poll_seconds=0.2, timeout=60)
    assert failed.value.retryable is False
    assert f"listings report {report_id} (FATAL)" in str(failed.value) and REPORT_FIX in str(failed.value)
    # the next report is not affected
    again = job.request(gateway)
    job.wait(gateway, again, poll_seconds=0.2, timeout=60)
    assert job.poll(gateway, again).status == "DONE"
