"""The seam for the demo's CSV-era listings (issue [F] fills it from ``sandbox.catalog``).

``csv_era_listings(seed)`` returns ``(seller_id, marketplace_id, listings)`` triples that the demo
bootstrap passes to ``sandbox.spapi.listings.seed.seed_listings`` (see its docstring for the
listing format). Empty until [F] generates them: some the same product as demo catalog items under
another EAN or another SKU, some FBA.
"""

from __future__ import annotations

from typing import Any


def csv_era_listings(seed: int) -> list[tuple[str, str, list[dict[str, Any]]]]:
    return []
