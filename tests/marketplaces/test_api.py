"""The Marketplaces app on a running Airflow api-server, over HTTP: authentication, permissions, CSRF,
the consent flow and its errors (the browser tests walk the same flow in Chromium)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.marketplaces.conftest import (
    PREFIX,
    approve_on_amazon,
    connection_extra,
    csrf_of,
    notice_of,
    start_consent,
)


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def test_unauthenticated_requests_are_refused(airflow_server):
    with airflow_server.client(user=None) as anonymous:
        page = anonymous.get(f"{PREFIX}/")
        assert page.status_code == 302
        assert urlsplit(page.headers["location"]).path == "/auth/login"
        assert parse_qs(urlsplit(page.headers["location"]).query)["next"] == [f"{airflow_server.base_url}{PREFIX}/"]
        assert anonymous.get(f"{PREFIX}/api/overview").status_code == 401
        assert anonymous.post(f"{PREFIX}/connect", data={"action": "main"}).status_code == 401
        assert anonymous.post(f"{PREFIX}/accounts/demo/app-credentials", data={}).status_code == 401
        callback = anonymous.get(f"{PREFIX}/callback", params={"state": "x", "spapi_oauth_code": "y"})
        assert callback.status_code == 302 and "/auth/login" in callback.headers["location"]
        forged = anonymous.get(f"{PREFIX}/api/overview", headers={"Authorization": "Bearer not-a-jwt"})
        assert forged.status_code == 401
        forged_cookie = anonymous.get(f"{PREFIX}/", cookies={"_token": "not-a-jwt"})
        assert forged_cookie.status_code == 302


def test_the_overview_with_a_bearer_token(airflow_server):
    token = airflow_server.token("admin")
    answer = httpx.get(f"{airflow_server.base_url}{PREFIX}/api/overview", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [a["id"] for a in body["accounts"]] == ["demo", "other", "inactive"]
    health = {a["id"]: a["health"] for a in body["accounts"]}
    assert health["other"]["status"] == "ok"
    assert health["inactive"]["status"] == "failed" and "not authorized to sell" in health["inactive"]["message"]
    channels = {c["id"]: c for c in body["channels"]}
    assert (channels["fr_other"]["role"], channels["fr_other"]["linked_main"]) == ("international", "it")
    runs = {d["dag_id"]: d["runs"] for d in channels["it"]["dags"]}
    assert runs["mip_migrate_csv__it"][0]["state"] == "success"
    assert "mip_publish__it" in runs and "mip_orders__it" in runs


def test_a_viewer_sees_the_page_but_cannot_connect(airflow_server):
    with airflow_server.client("viewer") as viewer:
        page = viewer.get(f"{PREFIX}/")
        assert page.status_code == 200
        assert 'id="connect-main"' not in page.text and "needs permission to edit connection" in page.text
        refused = viewer.post(
            f"{PREFIX}/connect", data={"action": "reset", "account_id": "demo", "csrf": csrf_of(viewer)}
        )
        assert refused.status_code == 403
        assert "permission to edit its connection (amazon_sp_api_mp_demo)" in notice_of(refused.text)


def test_form_posts_need_the_csrf_token_and_our_origin(airflow_server):
    with airflow_server.client("admin") as admin:
        form = {"action": "reset", "account_id": "demo"}
        assert admin.post(f"{PREFIX}/connect", data=form).status_code == 403
        assert admin.post(f"{PREFIX}/connect", data={**form, "csrf": "forged"}).status_code == 403
        evil = admin.post(
            f"{PREFIX}/connect", data={**form, "csrf": csrf_of(admin)}, headers={"Origin": "http://evil.example"}
        )
        assert evil.status_code == 403


def test_connect_a_main_channel_then_the_state_cannot_be_replayed(airflow_server, db):
    sandbox = airflow_server.sandbox
    with airflow_server.client("admin") as admin:
        consent = start_consent(admin, action="main", seller_id="A1MIPDEMOSELLER", country="IT")
        assert consent.startswith(f"{sandbox.base_url}/apps/authorize/consent?")
        params = parse_qs(urlsplit(consent).query)
        assert params["version"] == ["beta"]
        assert params["application_id"] == [sandbox.account("demo")["application_id"]]
        assert params["redirect_uri"] == [f"{airflow_server.base_url}{PREFIX}/callback"]

        callback = approve_on_amazon(sandbox, consent, "demo")
        done = admin.get(callback, follow_redirects=True)
        assert done.status_code == 200
        assert notice_of(done.text).startswith(" | Connected"), notice_of(done.text)
        assert "Checked: the token refresh" in done.text

        extra = connection_extra("amazon_sp_api_mp_demo")
        assert extra["refresh_token"] == sandbox.account("demo")["refresh_token"]  # the newest the sandbox issued
        assert extra["seller_id"] == "A1MIPDEMOSELLER" and extra["lwa_client_id"]
        assert datetime.fromisoformat(extra["authorization_date"]).date() == datetime.now(UTC).date()
        history = db.execute(
            "SELECT seller_id, source, actor FROM mip.account_credentials_history"
            " WHERE account_id = 'demo' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        assert history == ("A1MIPDEMOSELLER", "marketplaces-page", "admin")
        assert credentials_asset_events("demo") >= 1

        replay = admin.get(callback)
        assert replay.status_code == 400
        assert notice_of(replay.text).startswith("replayed | Authorization refused")


def credentials_asset_events(account: str) -> int:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        return session.scalar(
            select(func.count())
            .select_from(AssetEvent)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetModel.uri == f"mip://accounts/{account}/credentials")
        )


def test_switch_accounts_and_back_keeps_the_history(airflow_server, db):
    sandbox = airflow_server.sandbox
    sandbox.admin(
        "POST",
        "accounts",
        json={"account": "successor", "seller_id": "A4MIPSUCCESSOR1", "participating": ["IT", "DE", "FR", "ES"]},
    )
    with airflow_server.client("admin") as admin:
        consent = start_consent(admin, action="reset", account_id="demo")  # make sure demo is connected as A1
        admin.get(approve_on_amazon(sandbox, consent, "demo"), follow_redirects=True)
        events = credentials_asset_events("demo")

        consent = start_consent(admin, action="switch", account_id="demo", seller_id="A4MIPSUCCESSOR1")
        switched = admin.get(approve_on_amazon(sandbox, consent, "successor"), follow_redirects=True)
        shown = notice_of(switched.text)
        assert shown.startswith(" | Account switched"), shown
        assert "Seller ID switched A1MIPDEMOSELLER -> A4MIPSUCCESSOR1" in shown
        assert "Now set seller_id: A4MIPSUCCESSOR1 for account demo in the topology" in shown
        assert connection_extra("amazon_sp_api_mp_demo")["seller_id"] == "A4MIPSUCCESSOR1"
        assert "connection: A4MIPSUCCESSOR1" in switched.text.replace("<code>", "").replace("</code>", "")

        consent = start_consent(admin, action="switch", account_id="demo", seller_id="A1MIPDEMOSELLER")
        back = admin.get(approve_on_amazon(sandbox, consent, "demo"), follow_redirects=True)
    assert "Seller ID switched A4MIPSUCCESSOR1 -> A1MIPDEMOSELLER" in notice_of(back.text)
    history = db.execute(
        "SELECT seller_id, old_seller_id FROM mip.account_credentials_history"
        " WHERE account_id = 'demo' ORDER BY id DESC LIMIT 2"
    ).fetchall()
    assert history == [("A1MIPDEMOSELLER", "A4MIPSUCCESSOR1"), ("A4MIPSUCCESSOR1", "A1MIPDEMOSELLER")]
    assert credentials_asset_events("demo") == events + 2  # the switch and the switch back


def test_an_account_not_authorized_to_sell_is_not_stored(airflow_server):
    with airflow_server.client("admin") as admin:
        consent = start_consent(admin, action="reset", account_id="inactive")
        done = admin.get(approve_on_amazon(airflow_server.sandbox, consent, "inactive", "DE"), follow_redirects=True)
    shown = notice_of(done.text)
    assert shown.startswith("account_not_authorized | The seller account is not authorized to sell"), shown
    assert "nothing was stored" in shown and "finish the seller registration" in shown
    assert "refresh_token" not in connection_extra("amazon_sp_api_mp_inactive")


def test_a_country_not_created_on_amazon_is_reported(airflow_server):
    sandbox = airflow_server.sandbox
    sandbox.admin("POST", "accounts/A1MIPDEMOSELLER/participation", json={"country": "ES", "participating": False})
    try:
        with airflow_server.client("admin") as admin:
            before = connection_extra("amazon_sp_api_mp_demo").get("refresh_token")
            consent = start_consent(admin, action="reset", account_id="demo")
            done = admin.get(approve_on_amazon(sandbox, consent, "demo"), follow_redirects=True)
    finally:
        sandbox.admin("POST", "accounts/A1MIPDEMOSELLER/participation", json={"country": "ES", "participating": True})
    shown = notice_of(done.text)
    assert shown.startswith("marketplace_not_participating | Country not created on Amazon"), shown
    assert "channel es:" in shown and "add ES in Seller Central" in shown
    assert connection_extra("amazon_sp_api_mp_demo").get("refresh_token") == before


def test_the_callback_refuses_expired_foreign_and_tampered_states(airflow_server, db):
    sandbox = airflow_server.sandbox
    with airflow_server.client("admin") as admin, airflow_server.client("viewer") as viewer:
        callback = approve_on_amazon(sandbox, start_consent(admin, action="reset", account_id="demo"), "demo")
        foreign = viewer.get(callback)
        assert foreign.status_code == 400 and notice_of(foreign.text).startswith("other_user |")

        state = state_of(callback)
        tampered = callback.replace(state, state[:-2] + ("AA" if not state.endswith("AA") else "BB"))
        refused = admin.get(tampered)
        assert refused.status_code == 400 and notice_of(refused.text).startswith("bad_signature |")

        db.execute(
            "UPDATE mip.marketplace_authorizations SET expires_at = now() WHERE nonce = %s", (state.split(".")[1],)
        )
        db.commit()
        expired = admin.get(callback)
        assert expired.status_code == 400 and notice_of(expired.text).startswith("expired |")


def test_wrong_seller_id_gets_the_private_window_advice(airflow_server):
    with airflow_server.client("admin") as admin:
        consent = start_consent(admin, action="reset", account_id="demo")
        done = admin.get(approve_on_amazon(airflow_server.sandbox, consent, "other"), follow_redirects=True)
    shown = notice_of(done.text)
    assert shown.startswith("wrong_seller_id | Amazon authorized another seller"), shown
    assert "returned Seller ID A2MIPOTHERSELLER, but you entered A1MIPDEMOSELLER" in shown
    assert "private (incognito) window" in shown


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"action": "main", "seller_id": "A1MIPDEMOSELLER", "country": "GB"}, "needs_topology | Add the channel"),
        (
            {"action": "international", "seller_id": "A1MIPDEMOSELLER", "country": "FR", "linked_main": "de"},
            "refused | Cannot connect this channel",
        ),
    ],
)
def test_channels_the_topology_does_not_declare_are_not_connected(airflow_server, form, expected):
    with airflow_server.client("admin") as admin:
        answer = admin.post(f"{PREFIX}/connect", data={**form, "csrf": csrf_of(admin)})
    assert answer.status_code in (200, 400)
    assert notice_of(answer.text).startswith(expected), notice_of(answer.text)
    if form["action"] == "main":
        assert "3 main channels" in answer.text and "country: GB" in answer.text
    else:
        assert "mip channels reassign" in answer.text


def test_application_credentials_are_kept_server_side(airflow_server):
    before = connection_extra("amazon_sp_api_mp_inactive")
    with airflow_server.client("admin") as admin:
        blank = admin.post(f"{PREFIX}/accounts/inactive/app-credentials", data={"csrf": csrf_of(admin)})
        unknown = admin.post(f"{PREFIX}/accounts/nobody/app-credentials", data={"csrf": csrf_of(admin)})
    assert notice_of(blank.text).startswith(" | Application credentials saved")
    assert connection_extra("amazon_sp_api_mp_inactive") == before  # blank fields keep the stored values
    assert before["lwa_client_secret"] not in blank.text
    assert unknown.status_code == 400 and "no account 'nobody'" in notice_of(unknown.text)


def test_each_channel_shows_its_listings_orders_and_last_runs(airflow_server, db):
    """fr_other belongs to the marketplaces tests alone: its rows are ours."""
    db.execute("DELETE FROM mip.listings WHERE channel_id = 'fr_other'")
    db.execute("DELETE FROM mip.orders WHERE channel_id = 'fr_other'")
    db.execute("DELETE FROM mip.order_intervals WHERE channel_id = 'fr_other'")
    db.execute(
        "INSERT INTO mip.listings (channel_id, sku, marketplace_id, status) VALUES "
        "('fr_other', 'A', 'A13V1IB3VIYZZH', 'ACCEPTED'), ('fr_other', 'B', 'A13V1IB3VIYZZH', 'ACCEPTED'), "
        "('fr_other', 'C', 'A13V1IB3VIYZZH', 'INVALID')"
    )
    for n, hours_ago in enumerate((1, 5, 23, 30)):
        db.execute(
            "INSERT INTO mip.orders (amazon_order_id, channel_id, seller_id, account_id, marketplace_id, order_status,"
            " purchase_date, last_update_date) VALUES (%s, 'fr_other', 'A2MIPOTHERSELLER', 'other', 'A13V1IB3VIYZZH',"
            " 'Shipped', now() - make_interval(hours => %s), now())",
            (f"403-000000{n}-0000000", hours_ago),
        )
    db.execute(
        "INSERT INTO mip.order_intervals (channel_id, seller_id, account_id, run_id, dag_id, interval_start,"
        " interval_end, covered_end, method, status, finished_at) VALUES ('fr_other', 'A2MIPOTHERSELLER', 'other',"
        " 'r1', 'mip_orders__fr_other', '2026-11-01 10:00+00', '2026-11-01 11:00+00', '2026-11-01 11:00+00', 'api',"
        " 'imported', '2026-11-01 11:05+00')"
    )
    db.commit()

    token = airflow_server.token("admin")
    answer = httpx.get(f"{airflow_server.base_url}{PREFIX}/api/overview", headers={"Authorization": f"Bearer {token}"})
    activity = {c["id"]: c["activity"] for c in answer.json()["channels"]}
    assert activity["fr_other"] == {
        "listings_live": 2,
        "listings_rejected": 1,
        "orders_24h": 3,
        "last_import": "2026-11-01T11:05:00+00:00",
        "last_publish": None,
        "missed_by_events": None,  # the account has no ORDER_CHANGE subscription (docs/order-events.md)
    }
    with airflow_server.client("admin") as admin:
        page = admin.get(f"{PREFIX}/")
    row = page.text.split('id="channel-fr_other"', 1)[1].split("</tr>", 1)[0]
    assert "listings <b>2</b> live" in row and ">1</b> rejected" in row
    assert "orders, last 24 h: <b>3</b>" in row and "last import: 2026-11-01 11:05" in row
    assert "last publish" not in row, "International Listing channels are not published by MIP"
