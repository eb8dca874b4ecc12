"""Catalog rows -> ``mip.supplier_products`` rows, and the content hash that spots changed products.

The content hash is taken over the product's record *as the supplier wrote it* (its CSV fields, or
its JSON line; the reader computes that digest) plus its validated price and stock, keyed with the
rules' version, the default language and the CSV header. So an hourly drop where 1% of the products
changed re-validates only that 1%: a record whose hash equals the stored one was valid when it was
stored and has not changed since, and neither have the rules it passed. A changed price or stock, a
price line that went missing or was rejected, a new rule version or another column order all change
the hash (the product is then validated again, and rewritten if valid). Switching the supplier's
format from CSV to JSON lines rewrites every product once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from mip.catalog.supplier_format import LANGUAGES

# Bump when a rule changes meaning: every product is then validated again (and rewritten).
RULES_VERSION = "1"
TABLE_COLUMNS = (
    "reference",
    "ean",
    "brand",
    "category_path",
    "names",
    "descriptions",
    "images",
    "cost_price",
    "retail_price",
    "vat_class",
    "stock",
    "weight_kg",
    "length_cm",
    "width_cm",
    "height_cm",
    "content_hash",
    "source_file",
    "catalog_version",
    "loaded_at",
    "removed_at",
)


def hash_key(default_language: str, layout: Sequence[str]) -> bytes:
    """The BLAKE2b key of a drop's content hashes: rules version, default language, file layout."""
    return hashlib.sha256("\x1f".join([RULES_VERSION, default_language, *layout]).encode()).digest()


def content_hash(
    raw_digests: Sequence[bytes], cost: Sequence[str], retail: Sequence[str], stock: Sequence[str], key: bytes
) -> list[str]:
    """A 128-bit BLAKE2b hex digest per product: its record's digest, price and stock (see the module)."""
    blake2b = hashlib.blake2b
    return [
        blake2b(digest + f"\x1f{c}\x1f{r}\x1f{s}".encode(), key=key, digest_size=16).hexdigest()
        for digest, c, r, s in zip(raw_digests, cost, retail, stock, strict=True)
    ]


def _text_columns(frame: pd.DataFrame, prefix: str) -> list[str]:
    """``prefix<lang>`` columns, the supplier's languages first (stable order)."""
    found = [c for c in frame.columns if c.startswith(prefix)]
    order = {f"{prefix}{lang}": k for k, lang in enumerate(LANGUAGES)}
    return sorted(found, key=lambda c: (order.get(c, len(order)), c))


def _json_texts(frame: pd.DataFrame, prefix: str) -> list[str]:
    columns = _text_columns(frame, prefix)
    languages = [c[len(prefix) :] for c in columns]
    values = [frame[c].fillna("").tolist() for c in columns]
    if not values:
        return ["{}"] * len(frame)
    return [
        json.dumps({lang: text for lang, text in zip(languages, row, strict=True) if text}, ensure_ascii=False)
        for row in zip(*values, strict=True)
    ]


def table_rows(frame: pd.DataFrame, *, source_file: str, catalog_version: str, loaded_at: datetime) -> pd.DataFrame:
    """The ``mip.supplier_products`` columns (``TABLE_COLUMNS``) of validated, hashed rows."""
    images = [json.dumps(s.split("|") if s else [], ensure_ascii=False) for s in frame["images"].fillna("").tolist()]
    out = pd.DataFrame(
        {
            "reference": frame["reference"],
            "ean": frame["ean"],
            "brand": frame["brand"],
            "category_path": frame["category_path"],
            "names": _json_texts(frame, "name_"),
            "descriptions": _json_texts(frame, "description_"),
            "images": images,
            "cost_price": frame["cost_price"],
            "retail_price": frame["retail_price"],
            "vat_class": frame["vat_class"],
            "stock": frame["stock"],
            "weight_kg": frame["weight_kg"],
            "length_cm": frame["length_cm"],
            "width_cm": frame["width_cm"],
            "height_cm": frame["height_cm"],
            "content_hash": frame["content_hash"],
        }
    )
    out["source_file"] = source_file
    out["catalog_version"] = catalog_version
    out["loaded_at"] = loaded_at.isoformat()
    out["removed_at"] = None
    return out.loc[:, list(TABLE_COLUMNS)]
