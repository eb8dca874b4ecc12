"""The supplier's catalog drop: file names, columns, languages and where the drop is found.

Modelled on a dropshipping supplier's export (BigBuy-style). A drop is a folder with
``products.csv`` *or* ``products.jsonl``, ``prices.csv`` and ``stock.csv``; CSV files are
semicolon-separated UTF-8 with a header row (columns in any order, unknown columns ignored), decimal
point ``.``, prices in EUR. Product texts are per language: ``name_<lang>`` / ``description_<lang>``
columns in CSV, ``{"it": ...}`` objects in JSON lines.
"""

from __future__ import annotations

import os
from pathlib import Path

from mip import paths
from mip.command_errors import UserError

PRODUCTS_CSV = "products.csv"
PRODUCTS_JSONL = "products.jsonl"
PRICES_CSV = "prices.csv"
STOCK_CSV = "stock.csv"
DELIMITER = ";"

LANGUAGES = ("it", "de", "fr", "es", "en")
VAT_CLASSES = ("standard", "reduced", "super_reduced")

PRODUCT_COLUMNS = (
    "reference",
    "ean",
    "brand",
    "category",
    "images",
    "vat_class",
    "weight_kg",
    "length_cm",
    "width_cm",
    "height_cm",
)
PRICE_COLUMNS = ("reference", "cost_price", "retail_price")
STOCK_COLUMNS = ("reference", "stock")
# every column name of the format (messages about a header name only these)
KNOWN_COLUMNS = frozenset(
    {*PRODUCT_COLUMNS, *PRICE_COLUMNS, *STOCK_COLUMNS}
    | {f"{kind}_{lang}" for kind in ("name", "description") for lang in LANGUAGES}
)

# numeric columns: (largest accepted value, decimals stored), matching mip.supplier_products' types
DECIMALS = {
    "cost_price": (9_999_999_999.99, 2),
    "retail_price": (9_999_999_999.99, 2),
    "weight_kg": (9_999_999.999, 3),
    "length_cm": (99_999_999.99, 2),
    "width_cm": (99_999_999.99, 2),
    "height_cm": (99_999_999.99, 2),
}
MAX_STOCK = 2_147_483_647


def supplier_dir(override: str | os.PathLike | None = None) -> Path:
    """The drop folder: ``MIP_SUPPLIER_DIR`` (default ``<repo>/.local/supplier``), or ``override`` (a DAG Param,
    a command-line argument) if it lies inside that folder or the imports directory (``mip.paths``)."""
    if override:
        return paths.confine(override, [paths.imports_dir(), paths.supplier_dir()], what="supplier_dir")
    return paths.supplier_dir()


class CatalogSourceError(RuntimeError, UserError):
    """The drop cannot be read at all (a file is missing, a header lacks columns): nothing is loaded."""

    fix = "correct the drop's files (docs/pipelines/catalog_sync.md) and run again"


def products_file(directory: Path) -> Path:
    """``products.csv`` or ``products.jsonl`` of ``directory`` (exactly one of them)."""
    found = [directory / name for name in (PRODUCTS_CSV, PRODUCTS_JSONL) if (directory / name).is_file()]
    if not directory.is_dir():
        raise CatalogSourceError(
            f"{directory}: the supplier folder does not exist; set MIP_SUPPLIER_DIR (or the DAG's supplier_dir "
            "param) to the folder holding products.csv, prices.csv and stock.csv"
        )
    if not found:
        raise CatalogSourceError(f"{directory}: neither {PRODUCTS_CSV} nor {PRODUCTS_JSONL} is there")
    if len(found) > 1:
        raise CatalogSourceError(
            f"{directory}: both {PRODUCTS_CSV} and {PRODUCTS_JSONL} are there; keep the one the supplier sends"
        )
    return found[0]


def drop_files(directory: Path) -> tuple[Path, Path, Path]:
    """(products, prices, stock) of a drop, or ``CatalogSourceError`` naming what is missing."""
    products = products_file(directory)
    missing = [name for name in (PRICES_CSV, STOCK_CSV) if not (directory / name).is_file()]
    if missing:
        raise CatalogSourceError(
            f"{directory}: {' and '.join(missing)} missing (a drop has products, prices and stock files)"
        )
    files = (products, directory / PRICES_CSV, directory / STOCK_CSV)
    inside = directory.resolve()
    leaving = [f.name for f in files if not f.resolve().is_relative_to(inside)]
    if leaving:  # a symlink out of the folder would read a file the folder's confinement does not cover
        raise CatalogSourceError(
            f"{directory}: {', '.join(leaving)} point(s) outside the folder (a symlink); copy the file(s) into it"
        )
    return files
