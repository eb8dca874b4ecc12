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

PRODUCTS_CSV = "products.csv"
PRODUCTS_JSONL = "products.jsonl"
PRICES_CSV = "prices.csv"
STOCK_CSV = "stock.csv"
DELIMITER = ";"

LANGUAGES = ("it", "de", "fr", "es", "en")
# Every product needs a name in this language (the others may be missing; publishing falls back to it).
DEFAULT_LANGUAGE = "en"
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

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_SUPPLIER_DIR = REPO_ROOT / ".local" / "supplier"


def supplier_dir(override: str | os.PathLike | None = None) -> Path:
    """The drop folder: ``override`` (a DAG Param), else ``MIP_SUPPLIER_DIR``, else ``<repo>/.local/supplier``."""
    if override:
        return Path(override)
    return Path(os.environ.get("MIP_SUPPLIER_DIR") or DEFAULT_SUPPLIER_DIR)


class CatalogSourceError(RuntimeError):
    """The drop cannot be read at all (a file is missing, a header lacks columns): nothing is loaded."""


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
    return products, directory / PRICES_CSV, directory / STOCK_CSV
