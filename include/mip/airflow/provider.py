"""Airflow provider metadata of the ``mip`` package (entry point ``apache_airflow_provider``).

Registers the ``amazon_sp_api`` connection type with its form fields (``conn-fields``: the way
since Airflow 3.2; the hook's form-widget methods are deprecated).
"""

from __future__ import annotations

_TEXT = {"type": ["string", "null"]}
_SECRET = {"type": ["string", "null"], "format": "password"}


def get_provider_info() -> dict:
    return {
        "package-name": "mip-airflow",
        "name": "MIP (Amazon Multi-Channel Integration Platform)",
        "description": "Amazon SP-API and BigBuy (supplier) connection types, hooks and pipelines of MIP.",
        "versions": ["0.1.0"],
        "connection-types": [
            {
                "connection-type": "amazon_sp_api",
                "hook-class-name": "mip.airflow.hooks.sp_api.SpApiHook",
                "hook-name": "Amazon SP-API",
                "conn-fields": {
                    "seller_id": {
                        "label": "Seller ID",
                        "description": "The Merchant Token (Seller Central > Settings > Account Info)",
                        "schema": _TEXT,
                    },
                    "region": {
                        "label": "Region",
                        "schema": {"type": ["string", "null"], "enum": ["eu", "na", "fe"], "default": "eu"},
                    },
                    "application_id": {
                        "label": "SP-API application id",
                        "description": "amzn1.sp.solution... (for the OAuth consent of Multi-Channel > Marketplaces)",
                        "schema": _TEXT,
                    },
                    "lwa_client_id": {
                        "label": "LWA client id",
                        "description": "amzn1.application-oa2-client...",
                        "schema": _TEXT,
                    },
                    "lwa_client_secret": {"label": "LWA client secret", "schema": _SECRET},
                    "refresh_token": {
                        "label": "Refresh token",
                        "description": "From the seller's OAuth consent (Atzr|...)",
                        "schema": _SECRET,
                    },
                    "authorization_date": {
                        "label": "Authorization date",
                        "description": "When the seller authorized (authorizations expire after 365 days)",
                        "schema": {"type": ["string", "null"], "format": "date"},
                    },
                    "endpoint": {
                        "label": "Endpoint override",
                        "description": "Only for the sandbox, e.g. "
                        "http://127.0.0.1:8100; empty = Amazon's regional endpoint",
                        "schema": _TEXT,
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "port", "schema", "login", "password", "extra"],
                    "relabeling": {},
                    "placeholders": {},
                },
            },
            {
                "connection-type": "bigbuy",
                "hook-class-name": "mip.airflow.hooks.supplier.SupplierHook",
                "hook-name": "BigBuy (supplier)",
                "conn-fields": {
                    "base_url": {
                        "label": "Base URL",
                        "description": "Empty for BigBuy's API; only for the stand-in, e.g. http://127.0.0.1:8110/rest",
                        "schema": _TEXT,
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "port", "schema", "login", "extra"],
                    "relabeling": {"password": "API key"},
                    "placeholders": {},
                },
            },
        ],
    }
