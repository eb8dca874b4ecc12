"""Which path imports a window faster under Amazon's usage plans: paging, or the orders report.

Paging costs one getOrders per 100 orders plus one getOrderItems per order; getOrders refills at one
call a minute and getOrderItems at one every two seconds, so 10,000 orders take hours however fast
MIP is. The orders report (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL) brings orders and
lines in a few calls plus Amazon's processing time (``report_minutes``). The volume is estimated
from the first getOrders page, which the paging path needs anyway: pages come in LastUpdateDate
order, so the share of the window the first page covers tells how many pages the rest will take.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mip.amazon.usage_plans import usage_plan

PAGE_SIZE = 100
# the report path's calls: createReport, a getReport poll a minute while Amazon works, getReportDocument
REPORT_CALLS = {"createReport": 1, "getReportDocument": 1}


def floor_seconds(operation: str, calls: int, tokens: float | None = None) -> float:
    """Seconds Amazon's usage plan needs at least for ``calls`` calls of ``operation``, starting with
    ``tokens`` in the bucket (a full bucket less the one token the rate budget keeps in reserve)."""
    plan = usage_plan(operation)
    available = max(plan.burst - 1, 1) if tokens is None else max(tokens, 0.0)
    return max(0.0, calls - available) / plan.rate


@dataclass(frozen=True)
class Estimate:
    orders: int  # estimated orders in the window
    pages_left: int  # getOrders pages still to read after the first
    paged_seconds: float  # usage-plan floor of the rest of the paging path (items fetched alongside)
    report_seconds: float  # the report path: its calls' floor plus Amazon's processing time

    @property
    def cheaper(self) -> str:
        return "report" if self.report_seconds < self.paged_seconds else "api"

    def describe(self) -> str:
        return (
            f"about {self.orders:,} orders in the window: paging needs at least {self.paged_seconds / 60:,.1f} "
            f"Amazon minutes more, the orders report about {self.report_seconds / 60:,.1f}: {self.cheaper}"
        )


def estimate(
    first_page_orders: int,
    has_more: bool,
    window_start: datetime,
    window_before: datetime,
    last_update_on_page: datetime | None,
    report_minutes: float,
) -> Estimate:
    """Cost of both paths, from what the first getOrders page showed of the window."""
    if not has_more or last_update_on_page is None:
        orders = first_page_orders
    else:
        covered = (last_update_on_page - window_start).total_seconds()
        whole = (window_before - window_start).total_seconds()
        share = min(max(covered / whole, 1e-6), 1.0) if whole > 0 else 1.0
        orders = max(first_page_orders + 1, round(first_page_orders / share))
    pages_left = max(0, -(-orders // PAGE_SIZE) - 1) if has_more else 0
    # the items of the first page's orders are still to fetch, whichever path pages the rest
    paged = max(floor_seconds("getOrders", pages_left), floor_seconds("getOrderItems", orders))
    report = report_minutes * 60 + sum(floor_seconds(op, n) for op, n in REPORT_CALLS.items())
    return Estimate(orders, pages_left, paged, report)
