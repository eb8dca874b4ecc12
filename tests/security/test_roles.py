"""Role matrix of the Marketplaces app: every route and every state-changing action, for anonymous and each
role of Airflow's simple auth manager, with the status (and for the actions, the effect) expected per cell.

Viewing needs the Plugins view (viewer and up); connecting, resetting, switching and the application's
credentials need permission to edit the account's connection (op and admin); the callback completes only
for the user who started the consent and only while that user may still edit the connection.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.marketplaces.conftest import (
    PREFIX,
    approve_on_amazon,
    connection_extra,
    csrf_of,
    notice_of,
    put_connection,
)
from tests.security.conftest import ROLES

ANONYMOUS = None
EVERYONE = (ANONYMOUS, *ROLES)


def client(server, role: str | None) -> httpx.Client:
    return server.client(role)


def form(http: httpx.Client, role: str | None, **fields: str) -> dict[str, str]:
    """The form with the role's CSRF token (anonymous has none: it cannot load the page)."""
    return {**fields, **({"csrf": csrf_of(http)} if role else {})}


# route -> status per role (anonymous, viewer, user, op, admin)
READS = {
    "/icon.svg": (200, 200, 200, 200, 200),
    "/": (302, 200, 200, 200, 200),
    "/api/overview": (401, 200, 200, 200, 200),
    "/callback?state=v1.forged.1.x&spapi_oauth_code=c&selling_partner_id=A1MIPDEMOSELLER": (302, 400, 400, 400, 400),
}


@pytest.mark.parametrize("path", READS)
def test_reading_routes(sec_server, path):
    for role, expected in zip(EVERYONE, READS[path], strict=True):
        with client(sec_server, role) as http:
            answer = http.get(f"{PREFIX}{path}")
        assert answer.status_code == expected, (role, path, answer.status_code, answer.text[:300])
        if expected == 302:
            assert urlsplit(answer.headers["location"]).path == "/auth/login"


def test_starting_a_consent_needs_permission_to_edit_the_connection(sec_server, db):
    expected = {ANONYMOUS: 401, "viewer": 403, "user": 403, "op": 303, "admin": 303}
    for role in EVERYONE:
        before = db.execute("SELECT count(*) FROM mip.marketplace_authorizations WHERE account_id = 'demo'").fetchone()
        with client(sec_server, role) as http:
            answer = http.post(f"{PREFIX}/connect", data=form(http, role, action="reset", account_id="demo"))
        after = db.execute("SELECT count(*) FROM mip.marketplace_authorizations WHERE account_id = 'demo'").fetchone()
        assert answer.status_code == expected[role], (role, answer.text[:300])
        assert after[0] - before[0] == (1 if expected[role] == 303 else 0), role  # only a started consent is recorded


@pytest.mark.parametrize("action", ["main", "international", "switch"])
def test_every_connect_action_is_refused_below_op(sec_server, action):
    fields = {
        "main": {"seller_id": "A1MIPDEMOSELLER", "country": "IT"},
        "international": {"seller_id": "A2MIPOTHERSELLER", "country": "FR", "linked_main": "it"},
        "switch": {"account_id": "demo", "seller_id": "A2MIPOTHERSELLER"},
    }[action]
    for role in (ANONYMOUS, "viewer", "user"):
        with client(sec_server, role) as http:
            answer = http.post(f"{PREFIX}/connect", data=form(http, role, action=action, **fields))
        assert answer.status_code == (401 if role is None else 403), (role, action)


def test_the_app_credentials_form_needs_permission_to_edit_the_connection(sec_server):
    before = connection_extra("amazon_sp_api_sec_demo")
    expected = {ANONYMOUS: 401, "viewer": 403, "user": 403, "op": 200, "admin": 200}
    try:
        for role in EVERYONE:
            with client(sec_server, role) as http:
                secret = f"secret-set-by-{role}"
                answer = http.post(
                    f"{PREFIX}/accounts/demo/app-credentials", data=form(http, role, lwa_client_secret=secret)
                )
            assert answer.status_code == expected[role], (role, answer.text[:300])
            stored = connection_extra("amazon_sp_api_sec_demo")["lwa_client_secret"]
            assert (stored == secret) == (expected[role] == 200), role
    finally:
        put_connection("amazon_sp_api_sec_demo", before)


def test_copying_credentials_from_another_account_needs_to_read_its_connection(sec_server):
    for role, expected in ((ANONYMOUS, 401), ("viewer", 403), ("user", 403)):
        with client(sec_server, role) as http:
            answer = http.post(f"{PREFIX}/accounts/other/app-credentials", data=form(http, role, copy_from="demo"))
        assert answer.status_code == expected, role
    assert connection_extra("amazon_sp_api_sec_other") is None


def _state_for(sec_server, db, user: str) -> str:
    """A consent state issued to ``user`` as the app would (viewer and user cannot start one themselves)."""
    from mip.airflow.page import state

    key = state.derive_key(sec_server.env["AIRFLOW__API__SECRET_KEY"])
    issued = state.issue(
        db,
        key,
        purpose="reset",
        account_id="demo",
        channel_id=None,
        seller_id="A1MIPDEMOSELLER",
        country="IT",
        user_name=user,
    )
    db.commit()
    return issued


@pytest.mark.parametrize("role", ["viewer", "user"])
def test_a_callback_with_its_own_state_stores_nothing_below_op(sec_server, db, role):
    sandbox = sec_server.sandbox
    before = connection_extra("amazon_sp_api_sec_demo")
    issued = _state_for(sec_server, db, role)
    query = {
        "application_id": sandbox.account("demo")["application_id"],
        "state": issued,
        "version": "beta",
        "redirect_uri": f"{sec_server.base_url}{PREFIX}/callback",
    }
    consent = f"{sandbox.base_url}/apps/authorize/consent?{urlencode(query)}"
    callback = approve_on_amazon(sandbox, consent, "demo")
    with client(sec_server, role) as http:
        done = http.get(callback, follow_redirects=True)
    assert done.status_code == 200
    assert notice_of(done.text).startswith("forbidden | Not allowed"), notice_of(done.text)
    assert connection_extra("amazon_sp_api_sec_demo") == before
    outcome = db.execute(
        "SELECT outcome, error_code FROM mip.marketplace_authorizations WHERE nonce = %s", (issued.split(".")[1],)
    ).fetchone()
    assert outcome == ("failed", "forbidden")


@pytest.mark.parametrize("role", ["op", "admin"])
def test_op_and_admin_complete_a_consent_they_started(sec_server, db, role):
    sandbox = sec_server.sandbox
    with client(sec_server, role) as http:
        started = http.post(f"{PREFIX}/connect", data=form(http, role, action="reset", account_id="demo"))
        assert started.status_code == 303
        callback = approve_on_amazon(sandbox, started.headers["location"], "demo")
        done = http.get(callback, follow_redirects=True)
    assert notice_of(done.text).startswith(" | Credentials reset"), notice_of(done.text)
    nonce = parse_qs(urlsplit(callback).query)["state"][0].split(".")[1]
    row = db.execute("SELECT outcome, user_name FROM mip.marketplace_authorizations WHERE nonce = %s", (nonce,))
    assert row.fetchone() == ("connected", role)
    assert connection_extra("amazon_sp_api_sec_demo")["refresh_token"] == sandbox.account("demo")["refresh_token"]


def test_who_may_set_the_params_of_a_dag_run(sec_server):
    """Airflow's own REST API: a trigger-only role (user) can set any Param of a run, a viewer cannot; hence the
    confinement of path Params (test_paths)."""
    from tests.marketplaces.conftest import _one_dag_run

    _one_dag_run()  # writes the DAGs of dags/ to the metadata database
    body = {"logical_date": "2099-01-01T00:00:00Z", "conf": {"source": "/etc/hostname"}}
    expected = {ANONYMOUS: 401, "viewer": 403, "user": 200}
    for role, status in expected.items():
        with client(sec_server, role) as http:
            answer = http.post("/api/v2/dags/mip_migrate_csv__it/dagRuns", json=body, headers=_bearer(sec_server, role))
        assert answer.status_code == status, (role, answer.text[:300])
        if status == 200:
            run_id = answer.json()["dag_run_id"]
            with client(sec_server, "admin") as admin:
                deleted = admin.delete(
                    f"/api/v2/dags/mip_migrate_csv__it/dagRuns/{run_id}", headers=_bearer(sec_server, "admin")
                )
            assert deleted.status_code == 204


def _bearer(server, role: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token(role)}"} if role else {}
