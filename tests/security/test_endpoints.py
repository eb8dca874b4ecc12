"""Credentials are sent only to Amazon's SP-API endpoint of the account's region, or to a sandbox where the
deployment allows one: checked where credentials are built from a connection (tasks, ``mip credentials
reset``, the consent), and the Marketplaces form cannot move an account that has credentials elsewhere."""

from __future__ import annotations

import pytest

from mip.amazon.endpoints import EndpointRefused, check_endpoint
from tests.marketplaces.conftest import PREFIX, app_credentials, connection_extra, csrf_of, notice_of, put_connection
from tests.security.conftest import EVIL_ENDPOINT, TOPOLOGY

AMAZON_EU = "https://sellingpartnerapi-eu.amazon.com"


@pytest.mark.parametrize("endpoint", [None, "", AMAZON_EU, AMAZON_EU + "/", AMAZON_EU + ":443"])
def test_amazon_s_endpoint_of_the_region_means_no_override(endpoint):
    assert check_endpoint(endpoint, "eu", allow_sandbox=False) is None


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://sellingpartnerapi-eu.amazon.com",  # not https
        "https://sellingpartnerapi-na.amazon.com",  # another region's
        "https://sellingpartnerapi-eu.amazon.com.evil.example",
        "https://sellingpartnerapi-eu.amazon.com/path",
        "https://evil.example",
        "http://127.0.0.1:8100",  # a sandbox, where none is allowed
        "http://localhost:8100",
        "ftp://127.0.0.1",
    ],
)
def test_everything_else_is_refused_without_a_sandbox(endpoint):
    with pytest.raises(EndpointRefused, match="is refused for region 'eu'"):
        check_endpoint(endpoint, "eu", allow_sandbox=False)


@pytest.mark.parametrize(
    ("endpoint", "allowed"),
    [
        ("http://127.0.0.1:8100", True),
        ("http://127.9.9.9:1", True),
        ("http://[::1]:8100", True),
        ("http://localhost:8100/", True),
        ("http://sandbox:8100", True),  # a host the deployment names
        ("http://127.0.0.1@evil.example:8100", False),  # userinfo trick: the host is evil.example
        ("http://127.0.0.1.evil.example", False),
        ("http://127.0.0.1:8100/redirect", False),
        ("http://127.0.0.1:notaport", False),
        ("http://10.0.0.5:8100", False),
        ("http://evil.example", False),
    ],
)
def test_a_sandbox_only_on_loopback_or_a_named_host(endpoint, allowed):
    if allowed:
        assert check_endpoint(endpoint, "eu", allow_sandbox=True, sandbox_hosts=["sandbox"]) == endpoint.rstrip("/")
    else:
        with pytest.raises(EndpointRefused):
            check_endpoint(endpoint, "eu", allow_sandbox=True, sandbox_hosts=["sandbox"])


def test_tasks_refuse_a_connection_pointing_elsewhere(sec_sandbox, monkeypatch):
    from mip.airflow.hooks.sp_api import credentials_from_extra

    extra = {**app_credentials(sec_sandbox), "seller_id": "A1MIPDEMOSELLER", "refresh_token": "Atzr|x"}
    assert credentials_from_extra("demo", extra).endpoint == sec_sandbox.base_url  # the tests allow a sandbox
    with pytest.raises(EndpointRefused):
        credentials_from_extra("demo", {**extra, "endpoint": EVIL_ENDPOINT})
    monkeypatch.setenv("AIRFLOW__MIP__ALLOW_SANDBOX_ENDPOINT", "False")  # a production deployment
    with pytest.raises(EndpointRefused, match="does not allow one"):
        credentials_from_extra("demo", extra)
    assert credentials_from_extra("demo", {**extra, "endpoint": ""}).sp_api_endpoint == AMAZON_EU


def test_the_credentials_reset_refuses_before_sending_the_secret(sec_server, mip_url):
    from mip.airflow.reset import reset_credentials
    from mip.config import parse_topology

    topology = parse_topology(TOPOLOGY, "channels.yaml")
    with pytest.raises(EndpointRefused):
        reset_credentials(topology, "evil", code="a-code", refresh_token=None, seller_id=None, database_url=mip_url)


def test_the_page_refuses_to_send_a_consent_through_a_refused_endpoint(sec_server):
    with sec_server.client("admin") as admin:
        answer = admin.post(f"{PREFIX}/connect", data={"action": "reset", "account_id": "evil", "csrf": csrf_of(admin)})
    assert answer.status_code == 400 and notice_of(answer.text).startswith("endpoint_refused |")


def test_the_app_credentials_form_checks_the_endpoint_and_never_moves_an_account(sec_server, sec_sandbox):
    before = connection_extra("amazon_sp_api_sec_demo")
    try:
        with sec_server.client("admin") as admin:

            def post(account: str, **fields: str):
                return admin.post(
                    f"{PREFIX}/accounts/{account}/app-credentials", data={**fields, "csrf": csrf_of(admin)}
                )

            refused = post("demo", endpoint=EVIL_ENDPOINT)
            assert refused.status_code == 400 and notice_of(refused.text).startswith("endpoint_refused |")
            moved = post("demo", endpoint="http://127.0.0.1:1")  # allowed as a sandbox, but demo has credentials
            assert moved.status_code == 400 and notice_of(moved.text).startswith("endpoint_locked |")
            same = post("demo", endpoint=sec_sandbox.base_url + "/")  # its own endpoint: no change
            assert same.status_code == 200, notice_of(same.text)
            assert connection_extra("amazon_sp_api_sec_demo") == before

            new = {k: v for k, v in app_credentials(sec_sandbox).items() if k != "region"}
            refused_new = post("other", **{**new, "endpoint": EVIL_ENDPOINT})
            assert refused_new.status_code == 400 and connection_extra("amazon_sp_api_sec_other") is None
            saved = post("other", **new)  # an account without credentials may name the sandbox
            assert notice_of(saved.text).startswith(" | Application credentials saved")
            assert connection_extra("amazon_sp_api_sec_other")["endpoint"] == sec_sandbox.base_url
    finally:
        put_connection("amazon_sp_api_sec_demo", before)
        put_connection("amazon_sp_api_sec_other", None)
