"""``mip_offers__<channel>``: price and stock changes only, every 15 minutes (see publish)."""

from mip.airflow.pipelines.publish import ROLES
from mip.airflow.pipelines.publish import build_offers as build

__all__ = ["ROLES", "build"]
