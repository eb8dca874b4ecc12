"""The verification's tables: ``mip.international_runs`` (one row per run) and
``mip.international_offers`` (one row per SKU and run). Every write replaces what the same run wrote
before, so a re-run task gives the same rows."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import psycopg
from psycopg.rows import dict_row

from mip.international.compare import Comparison, MainOffer
from mip.international.settings import VerifySettings
from mip.listings.sku import SKU_LIKE
from mip.runs import RunKey
from mip.store.bulk import copy_rows
from mip.store.db import one

# Per-SKU rows of older runs are deleted (run headers stay: they are small and hold the history).
RETENTION_DAYS = 90
OFFER_COLUMNS = (
    "channel_id",
    "run_id",
    "sku",
    "reference",
    "main_price",
    "main_accepted_since",
    "status",
    "cause",
    "local_price",
    "converted_main_price",
    "price_ratio",
    "target_status",
    "target_asin",
)


def accepted_count(conn: psycopg.Connection, main_channel_id: str) -> int:
    return one(
        conn.execute(
            "SELECT count(*) FROM mip.listings WHERE channel_id = %s AND status = 'ACCEPTED' AND sku LIKE %s",
            (main_channel_id, SKU_LIKE),
        )
    )[0]


def start_run(
    conn: psycopg.Connection,
    key: RunKey,
    *,
    main_channel_id: str,
    account_id: str,
    seller_id: str,
    marketplace_id: str,
    main_marketplace_id: str,
    currency: str,
    main_currency: str,
    settings: VerifySettings,
    report_id: str | None,
) -> None:
    """Record the run's inputs (a re-run of the request replaces them and clears the results)."""
    conn.execute(
        "DELETE FROM mip.international_offers WHERE channel_id = %s AND run_id = %s", (key.channel_id, key.run_id)
    )
    conn.execute(
        "INSERT INTO mip.international_runs (channel_id, run_id, dag_id, main_channel_id, account_id, seller_id, "
        "marketplace_id, main_marketplace_id, currency, main_currency, report_id, report_status, copy_delay_hours, "
        "fail_missing_percent, exchange_rate) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (channel_id, run_id) DO UPDATE SET dag_id = EXCLUDED.dag_id, "
        "main_channel_id = EXCLUDED.main_channel_id, account_id = EXCLUDED.account_id, "
        "seller_id = EXCLUDED.seller_id, marketplace_id = EXCLUDED.marketplace_id, "
        "main_marketplace_id = EXCLUDED.main_marketplace_id, currency = EXCLUDED.currency, "
        "main_currency = EXCLUDED.main_currency, report_id = EXCLUDED.report_id, "
        "report_status = EXCLUDED.report_status, copy_delay_hours = EXCLUDED.copy_delay_hours, "
        "fail_missing_percent = EXCLUDED.fail_missing_percent, exchange_rate = EXCLUDED.exchange_rate, "
        "expected = NULL, present = NULL, missing = NULL, not_copied_yet = NULL, bil_not_configured = NULL, "
        "not_copied = NULL, extra_copies = NULL, priced = NULL, median_ratio = NULL, min_ratio = NULL, "
        "max_ratio = NULL, status = 'requested', summary = NULL, requested_at = now(), compared_at = NULL, "
        "main_seller_checked = NULL, main_seller_copies = NULL",
        (
            key.channel_id,
            key.run_id,
            key.dag_id,
            main_channel_id,
            account_id,
            seller_id,
            marketplace_id,
            main_marketplace_id,
            currency,
            main_currency,
            report_id,
            None if report_id else "NONE_NEEDED",
            settings.copy_delay_hours,
            settings.fail_missing_percent,
            settings.exchange_rate,
        ),
    )


def run_of(conn: psycopg.Connection, channel_id: str, run_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT * FROM mip.international_runs WHERE channel_id = %s AND run_id = %s", (channel_id, run_id)
        ).fetchone()


def settings_of(run: dict[str, Any]) -> VerifySettings:
    return VerifySettings(run["copy_delay_hours"], run["fail_missing_percent"], run["exchange_rate"])


def set_report_status(conn: psycopg.Connection, channel_id: str, run_id: str, status: str) -> None:
    conn.execute(
        "UPDATE mip.international_runs SET report_status = %s WHERE channel_id = %s AND run_id = %s",
        (status, channel_id, run_id),
    )


def main_offers(conn: psycopg.Connection, main_channel_id: str, channel_id: str, run_id: str) -> list[MainOffer]:
    """The main channel's accepted MIP offers; ``accepted_since`` is the channel's previous verification's value
    when it saw the SKU (``mip.listings.updated_at`` moves with every patch), else ``updated_at``."""
    rows = conn.execute(
        """
        WITH previous AS (
            SELECT run_id FROM mip.international_runs
            WHERE channel_id = %(channel)s AND run_id <> %(run)s AND compared_at IS NOT NULL
            ORDER BY compared_at DESC LIMIT 1
        )
        SELECT l.sku, l.reference, l.price, LEAST(o.main_accepted_since, l.updated_at)
        FROM mip.listings l
        LEFT JOIN mip.international_offers o
            ON o.channel_id = %(channel)s AND o.run_id = (SELECT run_id FROM previous) AND o.sku = l.sku
        WHERE l.channel_id = %(main)s AND l.status = 'ACCEPTED' AND l.sku LIKE %(like)s
        """,
        {"channel": channel_id, "run": run_id, "main": main_channel_id, "like": SKU_LIKE},
    ).fetchall()
    return [MainOffer(sku, reference, price, since.astimezone(UTC)) for sku, reference, price, since in rows]


def missing_due_skus(conn: psycopg.Connection, channel_id: str, run_id: str, limit: int) -> list[str]:
    """The run's missing offers that were due (not the ones 'not copied yet')."""
    rows = conn.execute(
        "SELECT sku FROM mip.international_offers WHERE channel_id = %s AND run_id = %s AND status = 'missing' "
        "AND cause <> 'not_copied_yet' ORDER BY sku LIMIT %s",
        (channel_id, run_id, limit),
    ).fetchall()
    return [sku for (sku,) in rows]


def record_main_seller_check(
    conn: psycopg.Connection, channel_id: str, run_id: str, checked: int, copies: int, summary: str
) -> None:
    """Store the check's counts and the summary with its diagnosis line."""
    conn.execute(
        "UPDATE mip.international_runs SET main_seller_checked = %s, main_seller_copies = %s, summary = %s "
        "WHERE channel_id = %s AND run_id = %s",
        (checked, copies, summary, channel_id, run_id),
    )


def save(conn: psycopg.Connection, channel_id: str, run_id: str, comparison: Comparison, summary: str) -> None:
    """Replace the run's per-SKU rows, fill its header, drop per-SKU rows past the retention."""
    conn.execute("DELETE FROM mip.international_offers WHERE channel_id = %s AND run_id = %s", (channel_id, run_id))
    copy_rows(
        conn,
        "mip.international_offers",
        OFFER_COLUMNS,
        (
            (
                channel_id,
                run_id,
                o.sku,
                o.reference,
                o.main_price,
                o.accepted_since,
                o.status,
                o.cause,
                o.local_price,
                o.converted_main_price,
                o.price_ratio,
                o.target_status,
                o.target_asin,
            )
            for o in comparison.offers
        ),
    )
    prices, causes = comparison.prices, comparison.causes
    conn.execute(
        "UPDATE mip.international_runs SET expected = %s, present = %s, missing = %s, not_copied_yet = %s, "
        "bil_not_configured = %s, not_copied = %s, extra_copies = %s, priced = %s, median_ratio = %s, "
        "min_ratio = %s, max_ratio = %s, status = %s, summary = %s, compared_at = now() "
        "WHERE channel_id = %s AND run_id = %s",
        (
            comparison.expected,
            comparison.present,
            comparison.missing,
            causes["not_copied_yet"],
            causes["bil_not_configured"],
            causes["not_copied"],
            comparison.extra_copies,
            prices.priced,
            prices.median_ratio,
            prices.min_ratio,
            prices.max_ratio,
            comparison.verdict,
            summary,
            channel_id,
            run_id,
        ),
    )
    conn.execute(
        "DELETE FROM mip.international_offers o USING mip.international_runs r WHERE o.channel_id = %s "
        "AND r.channel_id = o.channel_id AND r.run_id = o.run_id AND r.run_id <> %s "
        "AND r.requested_at < now() - make_interval(days => %s)",
        (channel_id, run_id, RETENTION_DAYS),
    )
