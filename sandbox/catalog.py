"""Deterministic supplier catalogs (modelled on a dropshipping supplier such as BigBuy).

A catalog drop is a folder with three files:

- ``products.csv`` (or ``products.jsonl``): reference; ean; brand; category; name_<lang>;
  description_<lang> (it, de, fr, es, en); images (``|``-separated URLs); vat_class; weight_kg;
  length_cm; width_cm; height_cm. Semicolon-separated UTF-8 with a header row.
- ``prices.csv``: reference; cost_price; retail_price (recommended retail price, VAT included, EUR).
- ``stock.csv``: reference; stock.

With ``bad_rows`` about 0.5% of the products (at least one of each kind) carry exactly one known
defect, and ``write_catalog`` returns (and writes to ``manifest.json``) which file lines are bad and
why, with the rule names the ingest (``mip.catalog``) reports, so tests compare both exactly.

    python -m sandbox.catalog --out DIR --count 5000 --seed 1 [--jsonl] [--no-bad-rows]
    python -m sandbox.catalog --out DIR --mutate 0.01 --seed 2     # change 1% of an existing drop

Everything is a function of ``(count, seed)``: the same arguments give byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from stdnum import ean as stdnum_ean

from sandbox import catalog_vocabulary as vocab
from sandbox.catalog_vocabulary import LANGUAGES

DEFAULT_LANGUAGE = "en"
PRODUCT_COLUMNS = (
    "reference",
    "ean",
    "brand",
    "category",
    *(f"name_{lang}" for lang in LANGUAGES),
    *(f"description_{lang}" for lang in LANGUAGES),
    "images",
    "vat_class",
    "weight_kg",
    "length_cm",
    "width_cm",
    "height_cm",
)
PRICE_COLUMNS = ("reference", "cost_price", "retail_price")
STOCK_COLUMNS = ("reference", "stock")
MANIFEST = "manifest.json"
BAD_ROW_FRACTION = 0.005

# Defect kinds, named as the ingest's rules. In JSON lines a wrong column count becomes a truncated
# line (rule invalid_json).
DEFECTS = (
    "gtin_checksum",
    "missing_name",
    "non_positive_cost",
    "duplicate_reference",
    "broken_encoding",
    "column_count",
    "unparsable_number",
)
_DEFECT_FIELD = {
    "gtin_checksum": "ean",
    "missing_name": f"name_{DEFAULT_LANGUAGE}",
    "non_positive_cost": "cost_price",
    "duplicate_reference": "reference",
    "broken_encoding": "name_de",
    "column_count": None,
    "unparsable_number": "weight_kg",
}
_LATIN1_TOKEN = "@@LATIN1:{}@@"


@dataclass(slots=True)
class Product:
    """One record of ``products.*`` plus its ``prices.csv`` and ``stock.csv`` values, as written."""

    reference: str
    ean: str
    brand: str
    category: str
    names: dict[str, str]
    descriptions: dict[str, str]
    images: list[str]
    vat_class: str
    weight_kg: str
    length_cm: str
    width_cm: str
    height_cm: str
    cost_price: str
    retail_price: str
    stock: str
    defect: str | None = None
    # a second record reusing another product's reference: it has no prices/stock rows of its own
    duplicate_copy: bool = False


@dataclass(frozen=True)
class BadRow:
    """A line of a catalog file that the ingest must reject, and why."""

    file: str
    line: int
    reference: str
    field: str | None
    rule: str


@dataclass(frozen=True)
class ProductSummary:
    """What other tools (the sandbox's CSV-era listings) need to know of a catalog product."""

    reference: str
    ean: str
    brand: str
    names: dict[str, str]


@dataclass
class GeneratedCatalog:
    count: int
    seed: int
    products: list[Product]

    def summaries(self) -> list[ProductSummary]:
        """The good products (no defect), in file order."""
        return [
            ProductSummary(p.reference, p.ean, p.brand, {lang: name for lang, name in p.names.items() if name})
            for p in self.products
            if not p.defect
        ]


@dataclass
class Mutation:
    """What ``mutate`` changed: references whose cost and/or stock changed, and removed references."""

    cost_changed: list[str] = field(default_factory=list)
    stock_changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> set[str]:
        return set(self.cost_changed) | set(self.stock_changed)


_IMAGE_HOST = "https://images.supplier.example"


# --- generation ----------------------------------------------------------------------------------


@dataclass
class _Draws:
    """Every random number of a catalog, drawn up front (vectorised; kept as lists for fast indexing) so
    a product is a function of its index."""

    leaf: list[int]
    brand: list[int]
    colour: list[int]
    line: list[int]
    model: list[int]
    features: list[list[int]]
    cost: list[float]
    retail: list[float]
    stock: list[int]
    weight: list[float]
    dims: list[list[float]]
    images: list[int]
    upc: list[bool]
    partial: list[int]


def _draw(total: int, seed: int) -> _Draws:
    rng = np.random.default_rng(seed)
    leaf = rng.integers(0, len(vocab.LEAVES), total)
    brand_pick = rng.integers(0, 1 << 30, total)
    brand = np.array(
        [
            vocab.BRAND_INDEX[vocab.LEAVES[f][1][p % len(vocab.LEAVES[f][1])][0]]
            for f, p in zip(leaf.tolist(), brand_pick.tolist(), strict=True)
        ],
        dtype=np.int64,
    )
    stock = rng.integers(1, 501, total)
    stock = np.where(rng.random(total) < 0.1, 0, np.minimum(stock, rng.integers(1, 501, total)))
    cost_lo, cost_hi, kg_lo, kg_hi = (
        np.array([leaf_[2 + k // 2][k % 2] for _, _, leaf_ in vocab.LEAVES])[leaf] for k in range(4)
    )
    cost = np.round(cost_lo * (cost_hi / cost_lo) ** rng.random(total), 2)  # log-uniform per category
    retail = np.maximum(np.round(cost * rng.uniform(1.25, 2.4, total) * 1.22) - 0.01, np.round(cost + 1.0, 2))
    arrays = dict(
        leaf=leaf,
        brand=brand,
        colour=rng.integers(0, len(vocab.COLOURS), total),
        line=rng.integers(0, len(vocab.LINES), total),
        model=rng.integers(1, 100, total) * 10,
        features=rng.integers(0, len(vocab.FEATURES), (total, 2)),
        cost=cost,
        retail=retail,
        stock=stock,
        weight=np.round(kg_lo + rng.random(total) * (kg_hi - kg_lo), 3),
        dims=np.round(rng.uniform(4, 60, (total, 3)), 1),
        images=rng.integers(1, 5, total),
        upc=rng.random(total) < 0.05,
        # about 3% of products lack one translation (not a defect: the default language is there)
        partial=np.where(rng.random(total) < 0.03, rng.integers(0, 4, total), -1),
    )
    return _Draws(**{name: array.tolist() for name, array in arrays.items()})


def _reference(i: int, d: _Draws) -> str:
    return f"{vocab.LEAVES[d.leaf[i]][0]}{1_000_000 + i:07d}"


def _product(i: int, d: _Draws) -> Product:
    leaf = d.leaf[i]
    _, _, (path, _, _, _, vat) = vocab.LEAVES[leaf]
    b = d.brand[i]
    brand, prefix = vocab.BRANDS[b]
    reference = _reference(i, d)
    item = i  # unique per catalog, so unique per brand
    if d.upc[i]:
        body = f"0{6 + b % 3}{1000 + b * 300 + item // 100_000:04d}{item % 100_000:05d}"
    else:
        body = f"{prefix}{1000 + b * 300 + item // 100_000:04d}{item % 100_000:05d}"
    ean = body + stdnum_ean.calc_check_digit(body)

    weight = d.weight[i]
    length, width, height = d.dims[i]
    middle = f"{vocab.LINES[d.line[i]]} {d.model[i]}"
    prefixes, suffixes = vocab.prefixes(leaf, b), vocab.SUFFIXES[d.colour[i]]
    first, second = d.features[i]
    f1, f2 = vocab.FEATURE_TEXTS[first], vocab.FEATURE_TEXTS[second]
    size, kg = f"{length} x {width} x {height}", str(weight)
    names, descriptions = {}, {}
    for k, lang in enumerate(LANGUAGES):
        name = names[lang] = prefixes[k] + middle + suffixes[k]
        before, between, after = vocab.SIZE_PARTS[k]
        descriptions[lang] = name + ". " + f1[k] + ". " + f2[k] + ". " + before + size + between + kg + after
    if d.partial[i] >= 0:
        missing = LANGUAGES[d.partial[i]]  # never the default language (the last one)
        names[missing] = descriptions[missing] = ""
    slug = reference.lower()
    return Product(
        reference=reference,
        ean=ean,
        brand=brand,
        category=path,
        names=names,
        descriptions=descriptions,
        images=[f"{_IMAGE_HOST}/{slug}/{k}.jpg" for k in range(1, d.images[i] + 1)],
        vat_class=vat,
        weight_kg=f"{weight:.3f}",
        length_cm=f"{length:.1f}",
        width_cm=f"{width:.1f}",
        height_cm=f"{height:.1f}",
        cost_price=f"{d.cost[i]:.2f}",
        retail_price=f"{d.retail[i]:.2f}",
        stock=str(d.stock[i]),
    )


def _plan_defects(count: int, seed: int, bad_rows: bool) -> tuple[dict[int, str], dict[int, list[int]]]:
    """Which product indexes carry which defect, and where duplicate copies go (position -> original)."""
    if not bad_rows or count < 2 * len(DEFECTS):
        return {}, {}
    rng = random.Random(seed * 7919 + count)
    wanted = max(len(DEFECTS), round(count * BAD_ROW_FRACTION))
    chosen = rng.sample(range(count), wanted)
    defects = {index: DEFECTS[k % len(DEFECTS)] for k, index in enumerate(chosen)}
    copies: dict[int, list[int]] = {}
    for index, kind in sorted(defects.items()):
        if kind == "duplicate_reference":  # the copy goes before the product at ``position``
            copies.setdefault(rng.randrange(index + 1, count + 1), []).append(index)
    return defects, copies


def _apply_defect(p: Product, kind: str) -> None:
    p.defect = kind
    if kind == "gtin_checksum":
        p.ean = p.ean[:-1] + str((int(p.ean[-1]) + 3) % 10)
    elif kind == "missing_name":
        p.names[DEFAULT_LANGUAGE] = ""
    elif kind == "non_positive_cost":
        p.cost_price = "0.00" if int(p.reference[1:]) % 2 else f"-{p.cost_price}"
    elif kind == "broken_encoding":
        p.names["de"] = f"{p.names['de']} (Qualität für Küche)"
    elif kind == "unparsable_number":
        p.weight_kg = p.weight_kg.replace(".", ",")


def iter_products(count: int, seed: int = 1, bad_rows: bool = True) -> Iterator[Product]:
    """The records of ``products.*`` in file order (duplicate copies included)."""
    defects, copies = _plan_defects(count, seed, bad_rows)
    draws = _draw(count + sum(map(len, copies.values())), seed)
    extra = count
    for i in range(count + 1):
        for original in copies.get(i, ()):
            copy = _product(extra, draws)
            extra += 1
            copy.reference, copy.defect, copy.duplicate_copy = _reference(original, draws), "duplicate_reference", True
            yield copy
        if i == count:
            break
        product = _product(i, draws)
        if i in defects:
            _apply_defect(product, defects[i])
        yield product


def generate(count: int, seed: int = 1, bad_rows: bool = True) -> GeneratedCatalog:
    """A catalog of ``count`` products (plus the duplicate records of the bad rows), in file order."""
    return GeneratedCatalog(count=count, seed=seed, products=list(iter_products(count, seed, bad_rows)))


# --- files ---------------------------------------------------------------------------------------


def _csv_fields(p: Product, latin1: dict[str, str]) -> list[str]:
    names = dict(p.names)
    if p.defect == "broken_encoding":
        token = _LATIN1_TOKEN.format(len(latin1))
        latin1[token] = names["de"]
        names["de"] = token
    fields = [
        p.reference,
        p.ean,
        p.brand,
        p.category,
        *(names[lang] for lang in LANGUAGES),
        *(p.descriptions[lang] for lang in LANGUAGES),
        "|".join(p.images),
        p.vat_class,
        p.weight_kg,
        p.length_cm,
        p.width_cm,
        p.height_cm,
    ]
    if p.defect == "column_count":
        del fields[2]  # the brand went missing: one field short
    return fields


def _json_line(p: Product, latin1: dict[str, str]) -> str:
    names = {lang: v for lang, v in p.names.items() if v}
    if p.defect == "broken_encoding":
        token = _LATIN1_TOKEN.format(len(latin1))
        latin1[token] = names["de"]
        names["de"] = token
    weight: object = p.weight_kg if p.defect == "unparsable_number" else float(p.weight_kg)
    record = {
        "reference": p.reference,
        "ean": p.ean,
        "brand": p.brand,
        "category": p.category,
        "names": names,
        "descriptions": {lang: v for lang, v in p.descriptions.items() if v},
        "images": p.images,
        "vat_class": p.vat_class,
        "weight_kg": weight,
        "length_cm": float(p.length_cm),
        "width_cm": float(p.width_cm),
        "height_cm": float(p.height_cm),
    }
    line = json.dumps(record, ensure_ascii=False)
    if p.defect == "column_count":
        line = line[: len(line) // 2]  # a truncated record
    return line


def _encode(text: str, latin1: dict[str, str]) -> bytes:
    """UTF-8, except the values behind ``latin1``'s tokens, which become Latin-1 bytes (broken encoding)."""
    data = text.encode("utf-8")
    if not latin1:
        return data
    values = {token.encode(): value.encode("latin-1") for token, value in latin1.items()}
    return _TOKEN_PATTERN.sub(lambda m: values[m.group(0)], data)


_TOKEN_PATTERN = re.compile(rb"@@LATIN1:\d+@@")


def _rows_to_csv(rows: Iterator[Sequence[str]]) -> str:
    """Semicolon-separated lines. Plain joins (fast) unless a field needs quoting, then the csv module."""
    lines = []
    for row in rows:
        line = ";".join(row)
        if line.count(";") != len(row) - 1 or '"' in line or "\n" in line or "\r" in line:
            buffer = io.StringIO()
            csv.writer(buffer, delimiter=";", lineterminator="\n").writerow(row)
            line = buffer.getvalue()[:-1]
        lines.append(line)
    return "\n".join(lines) + "\n" if lines else ""


def write_catalog(
    directory: str | Path, count: int = 5000, seed: int = 1, bad_rows: bool = True, fmt: str = "csv"
) -> list[BadRow]:
    """Write a catalog drop into ``directory`` (created) and return its bad lines (also ``manifest.json``).

    Writes in batches, so 200,000 products take a few seconds and little memory.
    """
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"fmt must be 'csv' or 'jsonl', not {fmt!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    products_name = f"products.{fmt}"
    for stale in ("products.csv", "products.jsonl"):
        if stale != products_name:
            (directory / stale).unlink(missing_ok=True)
    bad: list[BadRow] = []
    paths = {name: directory / f"{name}.tmp" for name in (products_name, "prices.csv", "stock.csv")}
    with (
        paths[products_name].open("wb") as products,
        paths["prices.csv"].open("wb") as prices,
        paths["stock.csv"].open("wb") as stock,
    ):
        if fmt == "csv":
            products.write(_rows_to_csv(iter([PRODUCT_COLUMNS])).encode())
        prices.write(_rows_to_csv(iter([PRICE_COLUMNS])).encode())
        stock.write(_rows_to_csv(iter([STOCK_COLUMNS])).encode())
        line = 1 if fmt == "csv" else 0
        price_line = 1
        batch: list[Product] = []

        def flush() -> None:
            nonlocal line, price_line
            latin1: dict[str, str] = {}
            if fmt == "csv":
                text = _rows_to_csv(_csv_fields(p, latin1) for p in batch)
            else:
                text = "".join(_json_line(p, latin1) + "\n" for p in batch)
            products.write(_encode(text, latin1))
            owned = [p for p in batch if not p.duplicate_copy]
            prices.write(_rows_to_csv((p.reference, p.cost_price, p.retail_price) for p in owned).encode())
            stock.write(_rows_to_csv((p.reference, p.stock) for p in owned).encode())
            for p in batch:
                line += 1
                if not p.duplicate_copy:
                    price_line += 1
                if p.defect == "non_positive_cost":
                    bad.append(BadRow("prices.csv", price_line, p.reference, "cost_price", "non_positive_cost"))
                elif p.defect:
                    rule = "invalid_json" if (p.defect == "column_count" and fmt == "jsonl") else p.defect
                    bad.append(BadRow(products_name, line, p.reference, _DEFECT_FIELD[p.defect], rule))
            batch.clear()

        for product in iter_products(count, seed, bad_rows):
            batch.append(product)
            if len(batch) >= 10_000:
                flush()
        flush()
    for name, path in paths.items():
        path.replace(directory / name)
    bad.sort(key=lambda b: (b.file, b.line))
    (directory / MANIFEST).write_text(json.dumps([asdict(b) for b in bad], indent=1) + "\n")
    return bad


def read_manifest(directory: str | Path) -> list[BadRow]:
    path = Path(directory) / MANIFEST
    return [BadRow(**entry) for entry in json.loads(path.read_text())] if path.exists() else []


def _references_by_line(path: Path, fmt: str) -> Iterator[tuple[int, str]]:
    """(line number, reference) of each record; the generator never quotes references."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if fmt == "csv":
                if number > 1:
                    yield number, raw.split(b";", 1)[0].decode("utf-8", "replace")
            else:
                start = raw.find(b'"reference": "') + 14
                yield number, raw[start : raw.index(b'"', start)].decode("utf-8", "replace")


def _products_file(directory: Path) -> tuple[Path, str]:
    for fmt in ("csv", "jsonl"):
        path = directory / f"products.{fmt}"
        if path.exists():
            return path, fmt
    raise FileNotFoundError(f"no products.csv or products.jsonl in {directory}")


def list_products(directory: str | Path) -> list[ProductSummary]:
    """The good products of a catalog drop written by this module (references in its manifest skipped)."""
    directory = Path(directory)
    path, fmt = _products_file(directory)
    manifest = read_manifest(directory)
    bad_lines = {b.line for b in manifest if b.file == path.name}
    bad_refs = {b.reference for b in manifest}
    out = []
    with path.open("rb") as handle:
        if fmt == "csv":
            header = handle.readline().decode().rstrip("\n").split(";")
            index = {name: k for k, name in enumerate(header)}
            for number, raw in enumerate(handle, start=2):
                if number in bad_lines:
                    continue
                row = next(csv.reader([raw.decode("utf-8")], delimiter=";"))
                if row[0] in bad_refs:
                    continue
                names = {lang: row[index[f"name_{lang}"]] for lang in LANGUAGES if row[index[f"name_{lang}"]]}
                out.append(ProductSummary(row[0], row[index["ean"]], row[index["brand"]], names))
        else:
            for number, raw in enumerate(handle, start=1):
                if number in bad_lines:
                    continue
                record = json.loads(raw)
                if record["reference"] in bad_refs:
                    continue
                out.append(ProductSummary(record["reference"], record["ean"], record["brand"], record["names"]))
    return out


# --- mutation ------------------------------------------------------------------------------------


def mutate(directory: str | Path, fraction: float, seed: int = 1) -> Mutation:
    """Change cost and/or stock of ``fraction`` of the good products and remove a tenth as many more.

    Bad rows are left as they are (their lines in ``manifest.json`` are shifted when lines above them
    go), so a new ingest's rejections still match the manifest. Every listed change is a real change.
    """
    directory = Path(directory)
    path, fmt = _products_file(directory)
    manifest = read_manifest(directory)
    bad_refs = {b.reference for b in manifest}
    refs = [r for _, r in _references_by_line(path, fmt) if r not in bad_refs]
    rng = random.Random(seed)
    changes = max(1, round(len(refs) * fraction))
    picked = rng.sample(refs, min(len(refs), changes + max(1, changes // 10)))
    changed, removed = picked[:changes], set(picked[changes:])
    result = Mutation(removed=sorted(removed))
    cost_change = {r for k, r in enumerate(changed) if k % 3 != 1}  # 2/3 cost, 2/3 stock, 1/3 both
    stock_change = {r for k, r in enumerate(changed) if k % 3 != 0}

    def new_cost(ref: str, old: str) -> str:
        value = float(old)
        new = round(value * rng.uniform(0.85, 1.15), 2)
        if new == value or new <= 0:
            new = round(value + 0.5, 2)
        result.cost_changed.append(ref)
        return f"{new:.2f}"

    def new_stock(ref: str, old: str) -> str:
        value = rng.randrange(0, 501)
        if str(value) == old:
            value = (value + 7) % 501
        result.stock_changed.append(ref)
        return str(value)

    shifts = _rewrite_lines(path, fmt, lambda ref, raw: None if ref in removed else raw)
    shifts |= _rewrite_csv(directory / "prices.csv", removed, {r: (1, new_cost) for r in cost_change})
    shifts |= _rewrite_csv(directory / "stock.csv", removed, {r: (1, new_stock) for r in stock_change})
    if manifest:
        moved = [
            BadRow(
                b.file, b.line - sum(1 for f, n in shifts if f == b.file and n < b.line), b.reference, b.field, b.rule
            )
            for b in manifest
        ]
        (directory / MANIFEST).write_text(json.dumps([asdict(b) for b in moved], indent=1) + "\n")
    result.cost_changed.sort()
    result.stock_changed.sort()
    return result


def _rewrite_lines(path: Path, fmt: str, keep) -> set[tuple[str, int]]:
    """Rewrite a products file (streaming) dropping lines ``keep`` returns None for; returns (file, line) dropped."""
    dropped = set()
    refs = _references_by_line(path, fmt)
    next_ref = next(refs, None)
    temporary = path.with_name(path.name + ".tmp")
    with path.open("rb") as source, temporary.open("wb") as target:
        for number, raw in enumerate(source, start=1):
            ref = None
            if next_ref is not None and next_ref[0] == number:
                ref, next_ref = next_ref[1], next(refs, None)
            if ref is not None and keep(ref, raw) is None:
                dropped.add((path.name, number))
                continue
            target.write(raw)
    temporary.replace(path)
    return dropped


def _rewrite_csv(path: Path, removed: set[str], edits: dict[str, tuple[int, object]]) -> set[tuple[str, int]]:
    dropped = set()
    out = []
    for number, raw in enumerate(path.read_bytes().splitlines(keepends=True), start=1):
        fields = raw.rstrip(b"\n").decode("utf-8").split(";")
        ref = fields[0]
        if number > 1 and ref in removed:
            dropped.add((path.name, number))
            continue
        if number > 1 and ref in edits:
            column, change = edits[ref]
            fields[column] = change(ref, fields[column])  # type: ignore[operator]
            raw = (";".join(fields) + "\n").encode()
        out.append(raw)
    path.write_bytes(b"".join(out))
    return dropped


# --- command line --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.catalog", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the catalog folder (created)")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jsonl", action="store_true", help="products.jsonl instead of products.csv")
    parser.add_argument("--no-bad-rows", action="store_true")
    parser.add_argument(
        "--mutate",
        type=float,
        metavar="FRACTION",
        help="change FRACTION of the existing catalog in --out instead of writing a new one",
    )
    args = parser.parse_args(argv)
    if args.mutate is not None:
        mutation = mutate(args.out, args.mutate, args.seed)
        print(
            f"{args.out}: {len(mutation.changed)} products changed "
            f"({len(mutation.cost_changed)} cost, {len(mutation.stock_changed)} stock), "
            f"{len(mutation.removed)} removed"
        )
        return 0
    bad = write_catalog(args.out, args.count, args.seed, not args.no_bad_rows, "jsonl" if args.jsonl else "csv")
    print(f"{args.out}: {args.count} products, {len(bad)} bad lines (see {MANIFEST})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
