"""`mip credentials reset`: revoked -> new consent -> verified -> stored, history kept, switch refused
when the new seller cannot serve the account's channels."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.gateway.conftest import consent_code

CONN_ID = "amazon_sp_api_demo"
PREVIOUS_CONN_ID = "amazon_sp_api_demo__a1mipdemoseller"


def mip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mip.cli", *args], capture_output=True, text=True, timeout=120)


def stored_extra(conn_id: str = CONN_ID) -> dict:
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return session.scalar(select(Connection).where(Connection.conn_id == conn_id)).extra_dejson


@pytest.fixture(scope="module")
def stored_connection(own_sandbox, airflow_db):
    """The demo account's connection stored in Airflow's database (the tests below run in order)."""
    setup = subprocess.run(
        [sys.executable, "-m", "mip.airflow.setup", "--sandbox", own_sandbox.base_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert setup.returncode == 0, setup.stderr
    assert CONN_ID in setup.stdout
    yield
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        # with the previous seller's connection a switch keeps (amazon_sp_api_demo__<seller>)
        session.execute(delete(Connection).where(Connection.conn_id.startswith(CONN_ID)))


def test_reset_after_revocation_stores_the_new_authorization(own_sandbox, stored_connection, db):
    before = stored_extra()
    own_sandbox.admin("POST", "accounts/A1MIPDEMOSELLER/revoke")
    refused = mip("credentials", "reset", "demo", "--refresh-token", before["refresh_token"])
    assert refused.returncode == 1 and "nothing was stored" in refused.stderr
    assert "expired or revoked" in refused.stderr

    result = mip("credentials", "reset", "demo", "--code", consent_code(own_sandbox))
    assert result.returncode == 0, result.stderr
    assert "new authorization stored in connection amazon_sp_api_demo" in result.stdout
    after = stored_extra()
    assert after["refresh_token"] != before["refresh_token"]
    assert after["lwa_client_secret"] == before["lwa_client_secret"]
    assert after["refresh_token"] not in result.stdout + result.stderr
    history = db.execute(
        "SELECT seller_id, old_seller_id, source FROM mip.account_credentials_history"
        " WHERE account_id = 'demo' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert history == ("A1MIPDEMOSELLER", None, "cli")

    replayed = mip("credentials", "reset", "demo", "--code", "not-a-code")
    assert replayed.returncode == 1 and "start the authorization again" in replayed.stderr


def test_switching_to_a_seller_that_cannot_serve_the_channels_is_refused(own_sandbox, stored_connection):
    before = stored_extra()
    result = mip(
        "credentials", "reset", "demo", "--code", consent_code(own_sandbox, "other"), "--seller-id", "A2MIPOTHERSELLER"
    )
    assert result.returncode == 1
    assert "does not participate in the DE marketplace" in result.stderr
    assert stored_extra()["refresh_token"] == before["refresh_token"], "a refused reset must store nothing"


def test_switching_accounts_keeps_history(own_sandbox, stored_connection, db, tmp_path):  # switches
    topology = tmp_path / "channels.yaml"
    topology.write_text(
        "accounts:\n  - {id: demo, seller_id: A1MIPDEMOSELLER, region: eu, connection_id: amazon_sp_api_demo}\n"
        "channels:\n  - {id: it, account: demo, country: IT, role: main}\n"
        "  - {id: fr, account: demo, country: FR, role: international, linked_main: it}\n"
    )
    before = stored_extra()
    result = mip(
        "credentials",
        "reset",
        "demo",
        "--code",
        consent_code(own_sandbox, "other"),
        "--seller-id",
        "A2MIPOTHERSELLER",
        "--topology",
        str(topology),
    )
    assert result.returncode == 0, result.stderr
    assert "Seller ID switched A1MIPDEMOSELLER -> A2MIPOTHERSELLER" in result.stdout
    assert "now set seller_id: A2MIPOTHERSELLER" in result.stdout
    assert stored_extra()["seller_id"] == "A2MIPOTHERSELLER"
    # the old seller's hours are read only with its own authorization: kept beside the account's
    kept = stored_extra(PREVIOUS_CONN_ID)
    assert (kept["seller_id"], kept["refresh_token"]) == ("A1MIPDEMOSELLER", before["refresh_token"])
    history = db.execute(
        "SELECT seller_id, old_seller_id FROM mip.account_credentials_history"
        " WHERE account_id = 'demo' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert history == ("A2MIPOTHERSELLER", "A1MIPDEMOSELLER")


def test_reauthorizing_the_previous_seller_keeps_the_current_one(own_sandbox, stored_connection, db):  # runs last
    unknown = mip(
        "credentials", "reset", "demo", "--code", consent_code(own_sandbox), "--previous-seller", "A9NEVERSEEN1"
    )
    assert unknown.returncode == 1 and "was never a Seller ID of account demo" in unknown.stderr
    kept_before = stored_extra(PREVIOUS_CONN_ID)
    result = mip(
        "credentials", "reset", "demo", "--code", consent_code(own_sandbox), "--previous-seller", "A1MIPDEMOSELLER"
    )
    assert result.returncode == 0, result.stderr
    assert f"previous Seller ID A1MIPDEMOSELLER stored in connection {PREVIOUS_CONN_ID}" in result.stdout
    assert stored_extra()["seller_id"] == "A2MIPOTHERSELLER", "the account keeps its current seller"
    kept = stored_extra(PREVIOUS_CONN_ID)
    assert kept["seller_id"] == "A1MIPDEMOSELLER" and kept["refresh_token"] != kept_before["refresh_token"]
    history = db.execute(
        "SELECT seller_id, old_seller_id, source FROM mip.account_credentials_history"
        " WHERE account_id = 'demo' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert history == ("A1MIPDEMOSELLER", None, "cli:previous-seller"), "a re-authorization is no switch"
