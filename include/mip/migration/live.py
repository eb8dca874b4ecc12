"""Is MIP's own listing of a product live on Amazon? A CSV-era copy is deleted only when it is.

Deleting the seller's old listing before MIP's listing of the same product is buyable would leave the
product without an offer. What counts is what Amazon says, never ``mip.listings`` alone:

- when the run read Amazon's merchant listings report, MIP's SKU (``MIP-<reference>``) is in it with
  status ``Active`` (the report lists every listing of the marketplace, so absent = not listed);
- when the run read the seller's own file, Amazon is asked: searchListingsItems by SKU (20 per
  call), and the listing's summary status holds ``BUYABLE``.

A product whose copy is not live waits with one of ``WAITING_REASONS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from mip.amazon import apis
from mip.listings.sku import sku_for

if TYPE_CHECKING:
    import psycopg

    from mip.amazon.gateway import SpApiGateway
    from mip.config import Account, Channel
    from mip.runs import RunKey

WAITING_REASONS = {
    "mip_not_listed": "MIP's own listing of the product is not on Amazon yet: run mip_publish first",
    "mip_not_buyable": "MIP's own listing is on Amazon but not buyable (no stock, no price or an issue)",
}
SEARCH_BATCH = 20  # searchListingsItems: at most 20 identifiers per call
ACTIVE = "active"


@dataclass(frozen=True)
class CopyState:
    """MIP's listing of one product: live or why not, and where Amazon said so."""

    sku: str
    waiting_because: str | None
    seen_in: str

    @property
    def live(self) -> bool:
        return self.waiting_because is None

    def as_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "live": self.live, "waiting_because": self.waiting_because, "seen_in": self.seen_in}


def mip_copies(
    conn: psycopg.Connection,
    key: RunKey,
    references: list[str],
    *,
    channel: Channel,
    account: Account,
    gateway: SpApiGateway | None,
) -> dict[str, CopyState]:
    """The state of MIP's listing of each of ``references``, from what the run ``key`` read (see above)."""
    from mip.migration import stage

    source = stage.input_of(conn, key)
    if source is not None and source["source"] == "report":
        return _from_report(conn, key, references, source["report_id"])
    if gateway is None:
        raise RuntimeError(
            "the run read the seller's file: asking Amazon whether MIP's listings are live needs a gateway"
        )
    return _from_amazon(gateway, references, channel, account)


def _from_report(conn: psycopg.Connection, key: RunKey, references: list[str], report_id: str) -> dict[str, CopyState]:
    wanted = {sku_for(r): r for r in references}
    statuses: dict[str, str] = dict(
        conn.execute(
            "SELECT sku, coalesce(status, '') FROM mip.migration_listings WHERE channel_id = %(channel)s "
            "AND run_id = %(run)s AND sku = ANY(%(skus)s)",
            {**key.params, "skus": list(wanted)},
        ).fetchall()
    )
    seen = f"listings report {report_id}"
    found = {}
    for sku, reference in wanted.items():
        status = statuses.get(sku)
        reason = "mip_not_listed" if status is None else None if status.lower() == ACTIVE else "mip_not_buyable"
        found[reference] = CopyState(sku, reason, f"{seen} (status {status or 'absent'})")
    return found


def _from_amazon(
    gateway: SpApiGateway, references: list[str], channel: Channel, account: Account
) -> dict[str, CopyState]:
    client = apis.listings_items(gateway, channel.country)
    marketplace_id = channel.marketplace.marketplace_id
    wanted = {sku_for(r): r for r in references}
    skus = sorted(wanted)
    statuses: dict[str, list[str]] = {}
    for start in range(0, len(skus), SEARCH_BATCH):
        batch = skus[start : start + SEARCH_BATCH]
        response = gateway.call(
            "searchListingsItems",
            partial(
                client.search_listings_items,
                sellerId=account.seller_id,
                marketplaceIds=[marketplace_id],
                identifiers=",".join(batch),
                identifiersType="SKU",
                includedData=["summaries"],
                pageSize=SEARCH_BATCH,
            ),
            country=channel.country,
        )
        for item in (response.payload or {}).get("items", []):
            summaries = [s for s in item.get("summaries", []) if s.get("marketplaceId") == marketplace_id]
            statuses[item["sku"]] = [status for s in summaries for status in s.get("status", [])]
    found = {}
    for sku, reference in wanted.items():
        status = statuses.get(sku)
        reason = "mip_not_listed" if status is None else None if "BUYABLE" in status else "mip_not_buyable"
        found[reference] = CopyState(sku, reason, f"searchListingsItems (status {','.join(status or []) or 'absent'})")
    return found
