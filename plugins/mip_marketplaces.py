"""Multi-Channel > Marketplaces in the Airflow UI: connect seller accounts, reset credentials,
switch accounts (the app and its logic live in mip.airflow.page)."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin

from mip.airflow.page import plugin


class MipMarketplacesPlugin(AirflowPlugin):
    name = "mip_marketplaces"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = plugin.fastapi_apps()
    external_views: ClassVar[list[dict[str, Any]]] = plugin.external_views(conf.get("api", "base_url", fallback=""))
