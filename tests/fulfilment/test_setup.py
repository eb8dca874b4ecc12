"""make up's supplier connection: created once from the stand-in's key file; the hook builds the client."""

from __future__ import annotations

import json


def test_the_supplier_connection_is_created_once(airflow_db, supplier, monkeypatch):
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from mip.airflow.setup import ensure_supplier_connection

    monkeypatch.setenv("MIP_SUPPLIER_CONN_ID", "mip_supplier_setup_test")
    assert ensure_supplier_connection(supplier.base_url, supplier.api_key) is True
    assert ensure_supplier_connection("http://127.0.0.1:1/rest", "other") is False, "an existing one is kept"
    with create_session() as session:
        stored = session.scalar(select(Connection).where(Connection.conn_id == "mip_supplier_setup_test"))
        assert (stored.conn_type, stored.password) == ("bigbuy", supplier.api_key)
        assert json.loads(stored.extra) == {"base_url": supplier.base_url}


def test_the_hook_builds_a_client_that_reaches_the_stand_in(supplier, monkeypatch):
    from mip.airflow.hooks.supplier import SupplierHook

    connection = {"conn_type": "bigbuy", "password": supplier.api_key, "extra": {"base_url": supplier.base_url}}
    monkeypatch.setenv("AIRFLOW_CONN_MIP_SUPPLIER", json.dumps(connection))
    client = SupplierHook().client()
    assert client.base_url == supplier.base_url
    assert client.find("nothing-here") is None  # the key works against the stand-in
