"""The catalog side of matching, read from ``mip``: every product, its names, what the channel publishes.

"Products MIP manages or will publish" in a channel are the catalog products its publish selection
picks (``mip.listings.selection``) that have an EAN and a title in one of the languages the channel
publishes in: exactly the products ``mip_publish__<channel>`` sends. A channel without publish
settings publishes nothing, so nothing of its listings is planned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mip.listings.frames import read_frame
from mip.migration.match import Catalog
from mip.settings.base import DEFAULT_LANGUAGE

if TYPE_CHECKING:
    import psycopg

    from mip.config import Channel


def read_catalog(conn: psycopg.Connection, channel: Channel, catalog_language: str = DEFAULT_LANGUAGE) -> Catalog:
    from mip.listings.selection import SELECTION_COLUMNS, selection_mask
    from mip.listings.stages import NotPublished, publish_settings

    products = read_frame(
        conn,
        f"SELECT {', '.join(SELECTION_COLUMNS)}, ean FROM mip.supplier_products WHERE removed_at IS NULL",
        text_columns=("reference", "brand", "category_path", "ean"),
    )
    titles = read_frame(
        conn,
        "SELECT p.reference, n.key AS language, n.value AS name FROM mip.supplier_products p, "
        "jsonb_each_text(p.names) n WHERE p.removed_at IS NULL AND btrim(n.value) <> ''",
        text_columns=("reference", "language", "name"),
    )
    mip_listings = read_frame(
        conn,
        "SELECT sku, reference, asin FROM mip.listings WHERE channel_id = %s",
        (channel.id,),
        text_columns=("sku", "reference", "asin"),
    )
    candidates: dict[str, str | None] = {}
    try:
        settings = publish_settings(channel)
    except NotPublished:
        settings = None
    if settings is not None and len(products):
        products["cost_price"] = products["cost_price"].astype(float)
        products["retail_price"] = products["retail_price"].astype(float)
        chosen = products.loc[selection_mask(products, settings.selection) & products["ean"].notna(), "reference"]
        by_language = titles[titles["reference"].isin(set(chosen))]
        for language in reversed(settings.languages(channel.marketplace.language_tag, catalog_language)):
            part = by_language[by_language["language"] == language]
            candidates.update(zip(part["reference"], part["name"], strict=True))
    return Catalog(
        products=products[["reference", "ean", "brand"]],
        titles=titles,
        candidates=candidates,
        mip_listings=mip_listings,
    )
