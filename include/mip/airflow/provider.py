"""Airflow provider metadata of the ``mip`` package (entry point ``apache_airflow_provider``)."""

from __future__ import annotations


def get_provider_info() -> dict:
    return {
        "package-name": "mip-airflow",
        "name": "MIP (Amazon Multi-Channel Integration Platform)",
        "description": "Amazon SP-API connection type, hook and pipelines of MIP.",
        "versions": ["0.1.0"],
    }
