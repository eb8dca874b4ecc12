"""The supplier's API key: sent only to BigBuy's API (or a local stand-in where the deployment allows one),
never in a log line, an error message, XCom or the mip database."""

from __future__ import annotations

import json
import logging

import pytest

from mip.fulfilment.supplier import SupplierClient, SupplierUrlRefused, Unavailable, check_base_url
from tests.fulfilment import conftest as fulfilment
from tests.fulfilment.conftest import import_orders, key

spapi, supplier, fresh = fulfilment.spapi, fulfilment.supplier, fulfilment.fresh


@pytest.mark.parametrize(
    ("url", "allow", "expected"),
    [
        (None, False, "https://api.bigbuy.eu/rest"),
        ("", False, "https://api.bigbuy.eu/rest"),
        ("https://api.sandbox.bigbuy.eu/rest/", False, "https://api.sandbox.bigbuy.eu/rest"),
        ("http://127.0.0.1:8110/rest", True, "http://127.0.0.1:8110/rest"),
        ("http://localhost:8110/rest", True, "http://localhost:8110/rest"),
    ],
)
def test_allowed_base_urls(url, allow, expected):
    assert check_base_url(url, allow_sandbox=allow) == expected


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("http://127.0.0.1:8110/rest", False),  # no stand-in in this deployment
        ("http://api.bigbuy.eu/rest", True),  # BigBuy without TLS
        ("https://api.bigbuy.eu.evil.example/rest", True),
        ("http://evil.example/rest", True),
        ("http://user:pw@127.0.0.1:8110/rest", True),
        ("http://127.0.0.1:8110/other", True),
        ("http://127.0.0.1:8110/rest?x=1", True),
        ("http://127.0.0.1:notaport/rest", True),
        ("file:///etc/passwd", True),
    ],
)
def test_refused_base_urls(url, allow):
    with pytest.raises(SupplierUrlRefused):
        check_base_url(url, allow_sandbox=allow)


def test_a_sandbox_host_named_by_the_deployment_is_allowed_only_then():
    assert check_base_url("http://supplier:8110/rest", allow_sandbox=True, sandbox_hosts=("supplier",))
    with pytest.raises(SupplierUrlRefused):
        check_base_url("http://supplier:8110/rest", allow_sandbox=True)


def test_the_key_is_in_no_log_message_or_row(fresh, spapi, supplier, make_gateway, caplog, capfd, run_dag, monkeypatch):
    from mip.fulfilment.gate import gate
    from mip.fulfilment.send import send
    from mip.runs import StepFailed
    from tests.conftest import use_sandbox_connection

    db = fresh
    secret = supplier.api_key
    gateway = make_gateway(spapi)
    import_orders(db, spapi, gateway, 4)
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    client = SupplierClient(supplier.base_url, secret, attempts=2, base_delay=0.01)
    assert secret not in repr(client)
    gate(key(), db)
    db.commit()
    supplier.admin("POST", "faults", json={"error_5xx": 10})
    with pytest.raises(Unavailable) as down:
        send(key(), db, gateway, supplier=client)
    messages.append(str(down.value))
    db.rollback()
    supplier.admin("DELETE", "faults")
    supplier.admin("POST", "purse", json={"amount": 1})
    send(key(), db, gateway, supplier=client)
    db.commit()
    wrong = SupplierClient(supplier.base_url, secret + "-revoked", attempts=1)
    supplier.admin("POST", "purse", json={"amount": 1_000_000})
    with pytest.raises(StepFailed) as refused:
        send(key(run_id="run-2"), db, gateway, supplier=wrong)
    messages.append(str(refused.value))
    db.rollback()
    # a DAG run: task logs go to the captured output
    use_sandbox_connection(monkeypatch, spapi)
    connection = {"conn_type": "bigbuy", "password": secret, "extra": {"base_url": supplier.base_url}}
    monkeypatch.setenv("AIRFLOW_CONN_MIP_SUPPLIER", json.dumps(connection))
    run_dag("mip_fulfil__it")
    out, err = capfd.readouterr()
    rows = db.execute(
        "SELECT coalesce(string_agg(f::text, ' '), '') FROM mip.fulfilment_orders f"
        " UNION ALL SELECT coalesce(string_agg(e::text, ' '), '') FROM mip.fulfilment_events e"
    ).fetchall()
    for where, text in [("log", caplog.text), ("stdout", out), ("stderr", err), ("error", " ".join(messages))] + [
        ("mip database", r[0]) for r in rows
    ]:
        assert secret not in text, f"the supplier API key is in the {where}"
        assert secret[:10] not in text, f"part of the supplier API key is in the {where}"
