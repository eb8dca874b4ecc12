"""The publishing steps before planning, one function per DAG task, each table to table.

select (``mip.supplier_products`` -> ``mip.stage_offer``), gate_offers (suite catalog_offer over
``stage_offer``), price (``stage_offer`` -> ``mip.stage_price``), gate_prices (suite price over
``stage_price``). Every step reads its input filtered by ``run_id`` and first deletes its own
output for that run, so a retried or re-run step gives the same rows. Gates mark failing rows
``rejected`` (they stay inspectable) and the next step reads only the others.

Selection rules, product types and prices are computed with pandas over the whole frame; the
heavy text columns (titles, descriptions, images) never leave PostgreSQL: the select step
computes the selection on light columns, then copies the content with one INSERT ... SELECT.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from psycopg import sql

from mip.listings.frames import copy_frame, read_frame
from mip.listings.payloads import MAX_DESCRIPTION_CHARS, PAYLOAD_VERSION
from mip.listings.pricing import PRICE_COLUMNS, exchange_rate
from mip.listings.sku import SKU_PREFIX
from mip.settings.base import DEFAULT_LANGUAGE

if TYPE_CHECKING:
    import psycopg

    from mip.config import Channel
    from mip.quality.gate import GateResult
    from mip.runs import RunKey
    from mip.settings.publish import PublishSettings

STAGE_TABLES = ("mip.stage_plan", "mip.stage_price", "mip.stage_offer")
KEY_COLUMNS = ("channel_id", "run_id", "sku", "rejected")
WORK_MEM = "128MB"


class NotPublished(LookupError):
    """The channel has no ``publish:`` settings (or is not a main channel)."""


def publish_settings(channel: Channel) -> PublishSettings:
    if channel.role != "main":
        raise NotPublished(
            f"channel {channel.id!r} is an international channel: Amazon's Build International Listings copies "
            f"the offers of its main channel {channel.linked_main!r}; MIP never publishes to it"
        )
    if channel.publish is None:
        raise NotPublished(
            f"channel {channel.id!r} has no publish settings: nothing is published to it. Add a publish: block "
            "(selection, pricing) to the channel in channels.yaml (docs/pipelines/publish.md)"
        )
    return channel.publish


def rejected_source(channel_id: str, table: str) -> str:
    """``mip.rejected_rows.source`` of a publishing gate, e.g. ``publish:it:stage_offer``."""
    return f"publish:{channel_id}:{table}"


def stage_key(key: RunKey) -> RunKey:
    """The key of a publishing run's stage rows: its ``run_id`` names the DAG too (``mip_publish__it/<run>``),
    since ``mip_publish`` and ``mip_offers`` of a channel share the stage tables and feed submissions."""
    return replace(key, run_id=f"{key.dag_id}/{key.run_id}") if key.dag_id else key


def _clear(conn: psycopg.Connection, tables: tuple[str, ...], key: RunKey) -> None:
    for table in tables:
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE channel_id = %(channel)s AND run_id = %(run)s").format(
                sql.Identifier(*table.split("."))
            ),
            key.params,
        )


def _expire_old_runs(conn: psycopg.Connection, key: RunKey, days: int) -> int:
    removed = 0
    for table in STAGE_TABLES:
        removed += conn.execute(
            sql.SQL(
                "DELETE FROM {} WHERE channel_id = %(channel)s AND run_id <> %(run)s "
                "AND created_at < now() - make_interval(days => %(days)s)"
            ).format(sql.Identifier(*table.split("."))),
            {**key.params, "days": days},
        ).rowcount
    return removed


def analyze(conn: psycopg.Connection, table: str, columns: tuple[str, ...] = KEY_COLUMNS) -> None:
    """Fresh statistics right after a step wrote its table: the next step's joins depend on them
    (without them PostgreSQL assumes one row and joins 200,000 rows by nested loops). Only the join
    and filter columns: sampling the wide text columns costs a second for nothing."""
    conn.execute(
        sql.SQL("ANALYZE {} ({})").format(
            sql.Identifier(*table.split(".")), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
    )


def tune(conn: psycopg.Connection) -> None:
    """Memory for this transaction's hash joins of 200,000 rows (the default 4 MB spills to disk)."""
    conn.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")


def _language_sql(languages: tuple[str, ...]) -> sql.Composable:
    """The first of ``languages`` in which the product has a non-blank name (NULL if none)."""
    whens = [
        sql.SQL("WHEN btrim(p.names ->> {l}) <> '' THEN {l}").format(l=sql.Literal(language)) for language in languages
    ]
    return sql.SQL("CASE {} END").format(sql.SQL(" ").join(whens))


def select_offers(conn: psycopg.Connection, key: RunKey, catalog_language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """Selected catalog products -> ``stage_offer`` (content in the channel's language, content hash);
    ``catalog_language`` (the topology's ``catalog.language``) is the last fallback of titles."""
    from mip.listings.product_types import product_types
    from mip.listings.selection import SELECTION_COLUMNS, selection_mask

    settings = publish_settings(key.channel)
    market = key.channel.marketplace
    rate = exchange_rate(settings.pricing, market)  # fails early for a currency without a rate
    tune(conn)
    expired = _expire_old_runs(conn, key, settings.stage_retention_days)
    _clear(conn, STAGE_TABLES, key)

    products = read_frame(
        conn,
        f"SELECT {', '.join(SELECTION_COLUMNS)} FROM mip.supplier_products WHERE removed_at IS NULL",
        text_columns=("reference", "brand", "category_path"),
    )
    products["cost_price"] = products["cost_price"].astype(float)
    products["retail_price"] = products["retail_price"].astype(float)
    chosen = products.loc[selection_mask(products, settings.selection), ["reference", "category_path"]]
    chosen = chosen.assign(
        product_type=product_types(chosen["category_path"], settings.product_types, settings.default_product_type)
    )[["reference", "product_type"]]

    conn.execute("CREATE TEMP TABLE IF NOT EXISTS _selected (reference text PRIMARY KEY, product_type text)")
    conn.execute("TRUNCATE _selected")
    copy_frame(conn, "_selected", chosen)
    language = _language_sql(settings.languages(market.language_tag, catalog_language))
    inserted = conn.execute(
        sql.SQL(
            """
            INSERT INTO mip.stage_offer (channel_id, run_id, sku, reference, ean, brand, category_path, product_type,
                language, item_name, description, images, retail_price, list_price, currency, cost_price,
                vat_class, stock, quantity, asin, content_hash)
            SELECT %(channel)s, %(run)s, c.sku, p.reference, c.ean, c.brand, p.category_path, s.product_type,
                c.language, c.item_name, c.description, c.images, p.retail_price, c.list_price, %(currency)s,
                p.cost_price, p.vat_class, p.stock, greatest(coalesce(p.stock, 0) - %(buffer)s, 0), l.asin,
                md5(ROW(%(version)s::text, s.product_type, c.language, c.item_name, c.brand, c.ean,
                    c.description, c.images, c.list_price, %(currency)s::text)::text)
            FROM mip.supplier_products p
            JOIN _selected s USING (reference)
            CROSS JOIN LATERAL (SELECT {language} AS language) lang
            CROSS JOIN LATERAL (
                SELECT %(prefix)s::text || p.reference AS sku,
                       nullif(btrim(p.ean), '') AS ean,
                       nullif(btrim(p.brand), '') AS brand,
                       lang.language,
                       btrim(p.names ->> lang.language) AS item_name,
                       left(nullif(btrim(p.descriptions ->> lang.language), ''), %(max_description)s) AS description,
                       coalesce(p.images, '[]'::jsonb) AS images,
                       round(p.retail_price * %(rate)s, 2) AS list_price
            ) c
            LEFT JOIN mip.listings l ON l.channel_id = %(channel)s AND l.sku = c.sku
            WHERE p.removed_at IS NULL
            """
        ).format(language=language),
        {
            **key.params,
            "currency": market.currency,
            "buffer": settings.stock_buffer,
            "version": PAYLOAD_VERSION,
            "prefix": SKU_PREFIX,
            "max_description": MAX_DESCRIPTION_CHARS,
            "rate": rate,
        },
    ).rowcount
    analyze(conn, "mip.stage_offer")
    return {"catalog_products": len(products), "selected": inserted, "expired_stage_rows": expired}


def _mark_rejected(conn: psycopg.Connection, table: str, key: RunKey, failed: list[str]) -> None:
    """Set ``rejected`` to the gate's verdict, touching only rows whose flag changes."""
    target = sql.Identifier(*table.split("."))
    where = sql.SQL("channel_id = %(channel)s AND run_id = %(run)s")
    conn.execute(
        sql.SQL("UPDATE {} SET rejected = true WHERE {} AND NOT rejected AND sku = ANY(%(failed)s)").format(
            target, where
        ),
        {**key.params, "failed": failed},
    )
    conn.execute(
        sql.SQL("UPDATE {} SET rejected = false WHERE {} AND rejected AND NOT (sku = ANY(%(failed)s))").format(
            target, where
        ),
        {**key.params, "failed": failed},
    )


def gate_offers(conn: psycopg.Connection, key: RunKey) -> GateResult:
    """Suite catalog_offer over the run's ``stage_offer``; failing rows are marked rejected."""
    from mip.quality.gate import run_gate

    frame = read_frame(
        conn,
        "SELECT sku, ean, item_name, brand, jsonb_array_length(images) AS image_count, cost_price::float8, quantity "
        "FROM mip.stage_offer WHERE channel_id = %(channel)s AND run_id = %(run)s ORDER BY sku",
        key.params,
        text_columns=("sku", "ean", "item_name", "brand"),
    )
    result = run_gate(
        conn,
        "catalog_offer",
        frame,
        key_column="sku",
        source=rejected_source(key.channel.id, "stage_offer"),
        dag_id=key.dag_id,
        run_id=key.run_id,
        task_id=key.task_id,
        max_failed_fraction=float(publish_settings(key.channel).gates.max_rejected_percent) / 100,
    )
    _mark_rejected(conn, "mip.stage_offer", key, [str(k) for k in result.failed_keys])
    return result


def price_offers(conn: psycopg.Connection, key: RunKey) -> dict[str, Any]:
    """The run's accepted offers -> ``stage_price`` with every input of every price."""
    from mip.listings.pricing import price_offers as compute

    tune(conn)
    _clear(conn, ("mip.stage_plan", "mip.stage_price"), key)
    offers = read_frame(
        conn,
        "SELECT o.sku, o.reference, o.category_path, o.cost_price::float8, o.retail_price::float8, o.vat_class, "
        "l.price::float8 AS last_price FROM mip.stage_offer o "
        "LEFT JOIN mip.listings l ON l.channel_id = o.channel_id AND l.sku = o.sku "
        "WHERE o.channel_id = %(channel)s AND o.run_id = %(run)s AND NOT o.rejected ORDER BY o.sku",
        key.params,
        text_columns=("sku", "reference", "category_path", "vat_class"),
    )
    prices = compute(offers, publish_settings(key.channel).pricing, key.channel.marketplace)
    prices.insert(0, "run_id", key.run_id)
    prices.insert(0, "channel_id", key.channel.id)
    written = copy_frame(conn, "mip.stage_price", prices[["channel_id", "run_id", *PRICE_COLUMNS]])
    analyze(conn, "mip.stage_price")
    return {
        "priced": written,
        "floor_applied": int(prices["floor_applied"].sum()),
        "by_rule": {str(k): int(v) for k, v in prices["rule_id"].value_counts().items()},
    }


def gate_prices(conn: psycopg.Connection, key: RunKey) -> GateResult:
    """Suite price over the run's ``stage_price``; failing rows are marked rejected."""
    from mip.quality.gate import run_gate

    frame = read_frame(
        conn,
        "SELECT sku, price::float8, floor_price::float8, price_change_percent::float8 "
        "FROM mip.stage_price WHERE channel_id = %(channel)s AND run_id = %(run)s ORDER BY sku",
        key.params,
        text_columns=("sku",),
    )
    gates = publish_settings(key.channel).gates
    result = run_gate(
        conn,
        "price",
        frame,
        key_column="sku",
        source=rejected_source(key.channel.id, "stage_price"),
        dag_id=key.dag_id,
        run_id=key.run_id,
        task_id=key.task_id,
        max_failed_fraction=float(gates.max_rejected_percent) / 100,
        parameters={"max_price_change_percent": float(gates.max_price_change_percent)},
    )
    _mark_rejected(conn, "mip.stage_price", key, [str(k) for k in result.failed_keys])
    return result
