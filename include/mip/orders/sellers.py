"""Which Seller ID an order interval belongs to: an account's sellers over time.

An account's Seller ID changes only by a switch (``mip credentials reset --seller-id``, the
Marketplaces page's Switch account), recorded in ``mip.account_credentials_history`` as a row with
``old_seller_id``. A switch closes the old seller's intervals as they are (imported, failed or
missing) and opens the new seller's from the switch on:

- the old seller owns the schedule intervals that start before the switch (the one the switch falls
  in only up to the switch), the new seller those that end after it;
- a run belongs to the seller active when its window ends and reads with that seller's authorization
  (the account's connection, or the previous seller's connection kept at the switch): nothing read
  for one seller is ever recorded for another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg


@dataclass(frozen=True)
class SellerPeriod:
    seller_id: str
    start: datetime | None  # the switch to this seller; None: since the account's beginning
    end: datetime | None  # the switch away from it; None: the account's seller now

    def clip(self, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
        """The part of [start, end) in this period, None when they do not overlap."""
        clipped = (max(start, self.start) if self.start else start, min(end, self.end) if self.end else end)
        return clipped if clipped[0] < clipped[1] else None

    @property
    def current(self) -> bool:
        return self.end is None


def seller_periods(conn: psycopg.Connection, account_id: str, current_seller_id: str) -> list[SellerPeriod]:
    """The account's sellers in time order, from its recorded switches; the last one is ``current_seller_id``."""
    switches = conn.execute(
        "SELECT old_seller_id, seller_id, recorded_at FROM mip.account_credentials_history "
        "WHERE account_id = %s AND old_seller_id IS NOT NULL AND old_seller_id <> seller_id ORDER BY recorded_at, id",
        (account_id,),
    ).fetchall()
    periods: list[SellerPeriod] = []
    start: datetime | None = None
    for old_seller, _, switched_at in switches:
        periods.append(SellerPeriod(old_seller, start, switched_at))
        start = switched_at
    periods.append(SellerPeriod(current_seller_id, start, None))
    return periods


def seller_for_window(periods: list[SellerPeriod], window_end: datetime) -> SellerPeriod:
    """The period of the seller active when a window ends (a window ending at a switch is the old seller's)."""
    for period in periods:
        if (period.start is None or period.start < window_end) and (period.end is None or window_end <= period.end):
            return period
    return periods[-1]


def recovery_advice(account_id: str, seller_id: str, current_seller_id: str, hours: str) -> str:
    """How to import hours of a previous seller that cannot be read (the message of their failures)."""
    return (
        f"{hours} belong to Seller ID {seller_id}, which account {account_id} had before it switched to "
        f"{current_seller_id}: they are read only with {seller_id}'s own authorization and none that works is stored, "
        f"so they stay failed. To import them, have {seller_id} authorize the app again and run `mip credentials reset "
        f"{account_id} --previous-seller {seller_id} --code <consent code>` (or --refresh-token): a one-off backfill "
        f"through mip_repair__{account_id}; the account keeps reading for {current_seller_id}"
    )
