"""Reading a whole catalog drop: every rejection, and the products that are new or changed.

No database here: ``read_drop`` gets the stored content hashes (reference -> hash of the products
currently in the catalog) and returns what the ingest has to write. Prices and stock are read whole
(three short columns); the products file is streamed in chunks. Each record's content hash (its raw
digest with its price and stock, see ``mip.catalog.normalise``) is compared with the stored one
first: an equal hash means the stored row is still right, so only the other records are validated,
joined and kept for writing (spilled to a temporary folder past ``spill_rows``, so memory stays
bounded whatever the catalog size).
"""

from __future__ import annotations

import gc
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mip.catalog import normalise, validate
from mip.catalog.reader import CHUNK_ROWS, LINE, RAW_DIGEST, Chunk, csv_chunks, jsonl_chunks
from mip.catalog.rejections import Rejection, reject
from mip.catalog.supplier_format import PRICE_COLUMNS, PRODUCT_COLUMNS, STOCK_COLUMNS
from mip.settings.base import DEFAULT_LANGUAGE

Check = Callable[[pd.DataFrame, str], tuple[pd.DataFrame, list[Rejection]]]


@dataclass(frozen=True)
class ReadOptions:
    default_language: str = DEFAULT_LANGUAGE
    chunk_rows: int = CHUNK_ROWS
    spill_rows: int = 20_000


class Lookup:
    """prices.csv or stock.csv, validated: the good rows by reference, and the references rejected."""

    def __init__(self, path: Path, required: tuple[str, ...], check: Check) -> None:
        self.source = path.name
        chunk = _merge(list(csv_chunks(path, required, chunk_rows=1 << 62, digests=False)))
        good, found = check(chunk.frame, self.source)
        duplicated, duplicates = validate.duplicated(chunk.keys, self.source)
        self.rejections: list[Rejection] = chunk.rejections + found + duplicates
        self.rejected = {r.record_key for r in self.rejections if r.record_key} | duplicated
        self.rows = good.loc[~good["reference"].isin(self.rejected)].set_index("reference")

    def orphans(self, present: set[str], products_file: str) -> list[Rejection]:
        """Lines of references the products file does not have."""
        unknown = self.rows.loc[[reference not in present for reference in self.rows.index.tolist()]]
        return [
            reject(
                self.source,
                int(line),
                reference,
                "reference",
                "unknown_reference",
                reference,
                f"is not in {products_file}",
            )
            for reference, line in unknown[LINE].items()
        ]


def _merge(chunks: list[Chunk]) -> Chunk:
    merged = Chunk(pd.concat([c.frame for c in chunks], ignore_index=True) if len(chunks) > 1 else chunks[0].frame)
    for chunk in chunks:
        merged.rejections.extend(chunk.rejections)
        merged.keys.extend(chunk.keys)
    return merged


class Changed:
    """New or changed products waiting to be written; spilled to ``folder`` past ``spill_rows``.

    Iterating yields the frames without the references in ``excluded`` (duplicates found at the end).
    """

    def __init__(self, spill_rows: int, folder: Path):
        self.spill_rows, self.folder = spill_rows, folder
        self.frames: list[pd.DataFrame] = []
        self.spilled: list[Path] = []
        self.held = 0
        self.excluded: set[str] = set()

    def add(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        self.frames.append(frame)
        self.held += len(frame)
        if self.held > self.spill_rows:
            for part in self.frames:
                path = self.folder / f"changed-{len(self.spilled):05d}.pickle"
                with path.open("wb") as handle:
                    pickle.dump(part, handle, protocol=pickle.HIGHEST_PROTOCOL)
                self.spilled.append(path)
            self.frames, self.held = [], 0

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for path in self.spilled:
            with path.open("rb") as handle:
                yield self._kept(pickle.load(handle))  # our own temporary file
        for frame in self.frames:
            yield self._kept(frame)

    def _kept(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.loc[~frame["reference"].isin(self.excluded)] if self.excluded else frame


@dataclass
class ParsedDrop:
    """What a drop says: rejections, counts, the references it lists, and the products to write."""

    products_file: str
    changed: Changed
    rejections: list[Rejection] = field(default_factory=list)
    records: int = 0  # product records (lines, or multi-line CSV records) in the products file
    loaded: int = 0  # products that passed every rule
    present: set[str] = field(default_factory=set)  # every reference the products file names
    phases: dict[str, float] = field(default_factory=dict)


def _products_chunks(path: Path, options: ReadOptions) -> Iterator[Chunk]:
    if path.suffix == ".jsonl":
        return jsonl_chunks(path, options.chunk_rows)
    return csv_chunks(path, (*PRODUCT_COLUMNS, f"name_{options.default_language}"), options.chunk_rows)


def _with_price_and_stock(
    good: pd.DataFrame, source: str, prices: Lookup, stock: Lookup, found: list[Rejection]
) -> pd.DataFrame:
    """Products joined with their price and stock; those without either are rejected (``missing_price`` /
    ``missing_stock``), except when the price or stock line itself was rejected (one rejection is enough)."""
    references = good["reference"]
    keep = np.ones(len(good), dtype=bool)
    at = {}
    for lookup, rule in ((prices, "missing_price"), (stock, "missing_stock")):
        at[rule] = lookup.rows.index.get_indexer(references)  # the index's hash table is built once
        absent = at[rule] < 0
        keep &= ~absent
        if absent.any():
            rows = good.loc[absent, ["reference", LINE]]
            found.extend(
                reject(source, int(line), ref, "reference", rule, ref, f"has no line in {lookup.source}")
                for ref, line in zip(rows["reference"].tolist(), rows[LINE].tolist(), strict=True)
                if ref not in lookup.rejected
            )
    good = good.loc[keep].copy()
    for column in ("cost_price", "retail_price"):
        good[column] = prices.rows[column].to_numpy()[at["missing_price"][keep]]
    good["stock"] = stock.rows["stock"].to_numpy()[at["missing_stock"][keep]]
    return good


def _hashes(frame: pd.DataFrame, references: list[str], prices: Lookup, stock: Lookup, key: bytes) -> list[str]:
    """Content hashes of a chunk's records: their raw digest with the price and stock found for them."""
    columns = []
    for lookup, names in ((prices, ("cost_price", "retail_price")), (stock, ("stock",))):
        at = lookup.rows.index.get_indexer(references)
        for name in names:
            values = np.append(lookup.rows[name].to_numpy(dtype=object), "")  # at == -1 picks the ""
            columns.append([v if isinstance(v, str) else "" for v in values[at].tolist()])
    cost, retail, stock_column = columns
    return normalise.content_hash(frame[RAW_DIGEST].tolist(), cost, retail, stock_column, key=key)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while parsing: reading creates millions of short-lived lists and
    strings (none in reference cycles), and the collector would walk the growing heap again and
    again (about a third of the read time at 200,000 products)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_drop(
    products: Path,
    prices_path: Path,
    stock_path: Path,
    stored: dict[str, str],
    spill: Path,
    options: ReadOptions | None = None,
    clock: Callable[[str], None] = lambda name: None,
) -> ParsedDrop:
    """Read and check a drop; ``stored`` maps the catalog's references to their content hashes.

    ``clock(name)`` is called after each step (the ingest records the durations).
    """
    options = options or ReadOptions()
    source = products.name
    drop = ParsedDrop(products_file=source, changed=Changed(options.spill_rows, spill))
    with gc_paused():
        prices = Lookup(prices_path, PRICE_COLUMNS, validate.prices)
        stock = Lookup(stock_path, STOCK_COLUMNS, validate.stock)
        clock("prices_stock")
        found = drop.rejections
        found += prices.rejections + stock.rejections
        keys: list[tuple[str, int]] = []
        valid: list[str] = []
        key: bytes | None = None
        for chunk in _products_chunks(products, options):
            frame = chunk.frame
            drop.records += len(frame) + len(chunk.rejections)
            keys.extend(chunk.keys)
            found.extend(chunk.rejections)
            if key is None:
                layout = ["jsonl"] if products.suffix == ".jsonl" else [c for c in frame.columns if c[0] != "_"]
                key = normalise.hash_key(options.default_language, layout)
            references = [v.strip() for v in frame["reference"].tolist()]
            hashes = pd.Series(_hashes(frame, references, prices, stock, key), index=frame.index, dtype=object)
            known = np.array([stored.get(reference) for reference in references], dtype=object)
            unchanged = hashes.to_numpy() == known  # stored as it is: valid when stored, and nothing changed
            valid.extend(reference for reference, same in zip(references, unchanged, strict=True) if same)
            good, broken = validate.products(frame.loc[~unchanged], source, options.default_language)
            found.extend(broken)
            good = _with_price_and_stock(good, source, prices, stock, found)
            good["content_hash"] = hashes.loc[good.index]
            valid.extend(good["reference"].tolist())
            drop.changed.add(good)
        clock("products")
    duplicated, duplicates = validate.duplicated(keys, source)
    found += duplicates
    drop.present = {reference for reference, _ in keys}
    found += prices.orphans(drop.present, source) + stock.orphans(drop.present, source)
    drop.loaded = sum(1 for reference in valid if reference not in duplicated)
    drop.changed.excluded = duplicated
    clock("duplicates")
    return drop
