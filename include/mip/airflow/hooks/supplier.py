"""``bigbuy`` connections: the supplier's API key (the connection's password, masked) and base URL.

One connection for the deployment (``mip_supplier``, or ``MIP_SUPPLIER_CONN_ID``): one supplier feeds every
channel. The base URL (extra ``base_url``) may only be BigBuy's API, or, where the deployment allows a
sandbox (``[mip] allow_sandbox_endpoint``, on in ``make up`` and the tests), the stand-in on a loopback
address or a ``[mip] sandbox_endpoint_hosts`` host: the API key is sent nowhere else.
"""

from __future__ import annotations

import os
from typing import Any

from airflow.sdk import BaseHook

CONN_TYPE = "bigbuy"
DEFAULT_CONN_ID = "mip_supplier"
CONNECTION_FIX = (
    "create the supplier's connection in Admin > Connections: type BigBuy, id mip_supplier, the API key "
    "(BigBuy > Synchronisation > API), base URL empty for BigBuy's API (docs/fulfilment.md)"
)


def supplier_conn_id() -> str:
    return os.environ.get("MIP_SUPPLIER_CONN_ID", DEFAULT_CONN_ID)


def base_url_allowed(url: str | None) -> str:
    """The base URL if the API key may be sent there; ``SupplierUrlRefused`` otherwise."""
    from mip.airflow.sandbox_rule import sandbox_rule
    from mip.fulfilment.supplier import check_base_url

    allow, hosts = sandbox_rule()
    return check_base_url(url, allow_sandbox=allow, sandbox_hosts=hosts)


class SupplierHook(BaseHook):
    conn_name_attr = "supplier_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "BigBuy (supplier)"

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id or supplier_conn_id()

    def client(self, **options: Any):
        """The supplier client; ``ValueError`` (with the fix) for a missing key or a refused base URL."""
        from airflow.sdk.log import mask_secret

        from mip.fulfilment.supplier import SupplierClient

        conn = self.get_connection(self.conn_id)
        api_key = conn.password or ""
        if not api_key:
            raise ValueError(f"connection {self.conn_id!r} has no API key; {CONNECTION_FIX}")
        mask_secret(api_key)
        extra = conn.extra_dejson or {}
        return SupplierClient(base_url_allowed(extra.get("base_url")), api_key, **options)
