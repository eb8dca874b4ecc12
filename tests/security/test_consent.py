"""The consent callback: refused callbacks are recorded on their authorization row, and neither the code nor
the state reaches the api-server's log (its access log included, and the login redirect of an anonymous
callback, which carries the callback URL percent-encoded in ``next``)."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from mip.airflow.page.log_redaction import redact
from tests.marketplaces.conftest import PREFIX, approve_on_amazon, connection_extra, notice_of, start_consent


def state_and_code(callback: str) -> tuple[str, str]:
    query = parse_qs(urlsplit(callback).query)
    return query["state"][0], query["spapi_oauth_code"][0]


def access_log_line(server, path: str, after: int) -> str:
    """The api-server's access-log line of ``path`` written after byte ``after`` of its log; waits for the line
    (the server logs a request once it has answered it, which the caller has seen)."""
    deadline = time.monotonic() + 60
    while True:
        text = server.log.read_bytes()[after:].decode("utf-8", "replace")
        lines = [line for line in text.splitlines() if "request finished" in line and path in line]
        if lines:
            return "\n".join(lines)
        assert time.monotonic() < deadline, f"no access-log line for {path} in:\n{text[-3000:]}"
        time.sleep(0.2)


def refusals(db, state: str) -> tuple[str, str | None, list[str]]:
    outcome, error_code, entries = db.execute(
        "SELECT outcome, error_code, refusals FROM mip.marketplace_authorizations WHERE nonce = %s",
        (state.split(".")[1],),
    ).fetchone()
    return outcome, error_code, [entry["reason"] for entry in entries]


def test_refused_callbacks_are_recorded_on_the_authorization_row(sec_server, db):
    sandbox = sec_server.sandbox
    with sec_server.client("admin") as admin, sec_server.client("op") as op:
        callback = approve_on_amazon(sandbox, start_consent(admin, action="reset", account_id="demo"), "demo")
        state, _ = state_and_code(callback)

        assert op.get(callback).status_code == 400  # another user's consent
        assert refusals(db, state) == ("refused", "other_user", ["other_user"])

        tampered = callback.replace(state, state[:-2] + ("AA" if not state.endswith("AA") else "BB"))
        assert notice_of(admin.get(tampered).text).startswith("bad_signature |")
        assert refusals(db, state) == ("refused", "bad_signature", ["other_user", "bad_signature"])

        done = admin.get(callback, follow_redirects=True)  # the rightful user still completes it
        assert notice_of(done.text).startswith(" | Credentials reset"), notice_of(done.text)
        assert admin.get(callback).status_code == 400  # replayed: recorded, the outcome stays
        assert refusals(db, state) == ("connected", None, ["other_user", "bad_signature", "replayed"])

        expiring = approve_on_amazon(sandbox, start_consent(admin, action="reset", account_id="demo"), "demo")
        expiring_state, _ = state_and_code(expiring)
        db.execute(
            "UPDATE mip.marketplace_authorizations SET expires_at = now() WHERE nonce = %s",
            (expiring_state.split(".")[1],),
        )
        db.commit()
        assert notice_of(admin.get(expiring).text).startswith("expired |")
    outcome, error_code, reasons = refusals(db, expiring_state)
    assert (outcome, error_code, reasons) == ("refused", "expired", ["expired"])
    message = db.execute(
        "SELECT message FROM mip.marketplace_authorizations WHERE nonce = %s", (expiring_state.split(".")[1],)
    ).fetchone()[0]
    assert json.loads(message)["title"] == "Authorization refused"


def test_the_access_log_never_holds_the_code_or_the_state(sec_server):
    sandbox = sec_server.sandbox
    with sec_server.client("admin") as admin:
        callback = approve_on_amazon(sandbox, start_consent(admin, action="reset", account_id="demo"), "demo")
    state, code = state_and_code(callback)
    logged_from = sec_server.log.stat().st_size
    with sec_server.client(None) as anonymous:  # signed out meanwhile: sent to the login page with next=<callback>
        to_login = anonymous.get(callback)
        assert to_login.status_code == 302 and "/auth/login" in to_login.headers["location"]
        anonymous.get(to_login.headers["location"])
    with sec_server.client("admin") as admin:
        done = admin.get(callback, follow_redirects=True)
    assert notice_of(done.text).startswith(" | Credentials reset"), notice_of(done.text)
    callback_lines = access_log_line(sec_server, f"{PREFIX}/callback", logged_from)
    login_lines = access_log_line(sec_server, "/auth/login", logged_from)
    assert "state=***" in callback_lines and "spapi_oauth_code=***" in callback_lines, callback_lines
    assert "state%3D***" in login_lines, login_lines
    written = sec_server.log.read_text(errors="replace")
    assert code not in written and state not in written
    assert connection_extra("amazon_sp_api_sec_demo")["refresh_token"] not in written


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("query=state=v1.a.1.s&spapi_oauth_code=XYZ&selling_partner_id=A1", "query=state=***&spapi_oauth_code=***"),
        ("next=http%3A%2F%2Fh%2Fcallback%3Fstate%3Dv1.a%26spapi_oauth_code%3DANx%257C", "state%3D***%26spapi_oauth"),
        ("next=http%253A%252F%252Fh%253Fspapi_oauth_code%253DSECRET%2526x%253D1", "spapi_oauth_code%253D***%2526x"),
        ("GET /api/v2/dags/~/dagRuns?dag_run_state=ok", "dag_run_state=ok"),
    ],
)
def test_redaction_covers_plain_and_encoded_parameters(line, expected):
    assert expected in redact(line)
    assert "XYZ" not in redact(line) and "SECRET" not in redact(line) and "ANx" not in redact(line)
