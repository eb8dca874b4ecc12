"""Reading a listings file: Amazon's merchant listings report or the seller's own flat file.

Accepted: tab-, comma- or semicolon-separated text with a header row of Amazon's column names (the
``GET_MERCHANT_LISTINGS_ALL_DATA`` report's ``seller-sku``, ``item-name``, ``asin1``, ``product-id``,
``product-id-type``, ``fulfillment-channel``, ...; the flat-file template spellings ``item_sku``,
``external_product_id``, ``brand_name``, ... are accepted too, see ``COLUMNS``), in UTF-8 (with or
without a byte-order mark) or Latin-1/cp1252. The encoding is detected per file
(``mip.encodings``): a file that is not UTF-8 is cp1252 (Latin-1 for the bytes cp1252 leaves
undefined) unless another of its lines holds real UTF-8 text; such a file mixes encodings and is
refused, naming a line of each kind.

Problems that make the whole file unreadable (empty file, no header, a required column missing, a
column named twice, mixed encodings, broken quoting) raise ``ListingsFileError`` naming the line and
column. A row with the wrong number of fields is a ``RowProblem`` (line, column, rule): it is kept in
``mip.rejected_rows`` and left out; values are checked afterwards by the ``migration_listings`` gate.
Messages never repeat the content of a line that could not be read (only column names MIP knows):
they end up in task logs, which more users may read than the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mip import encodings
from mip.command_errors import UserError
from mip.migration import normalise

if TYPE_CHECKING:
    import pandas as pd

# canonical column -> accepted header names (compared case-insensitively, "-", "_" and " " alike)
COLUMNS: dict[str, tuple[str, ...]] = {
    "sku": ("seller-sku", "sku", "item-sku", "seller-sku-id"),
    "item_name": ("item-name", "title", "product-name"),
    "asin": ("asin1", "asin"),
    "product_id": ("product-id", "external-product-id"),
    "product_id_type": ("product-id-type", "external-product-id-type"),
    "brand": ("brand", "brand-name"),
    "fulfillment": ("fulfillment-channel", "fulfilment-channel", "fulfillment-center-id"),
    "status": ("status",),
    "price": ("price", "standard-price"),
    "quantity": ("quantity",),
    "open_date": ("open-date",),
}
REQUIRED = ("sku", "fulfillment")
IDENTIFYING = ("item_name", "asin", "product_id")  # at least one of them
FRAME_COLUMNS = (
    "line",
    "sku",
    "item_name",
    "asin",
    "product_id",
    "product_id_type",
    "product_id_type_raw",
    "gtin",
    "gtin_key",
    "brand",
    "fulfillment",
    "fulfillment_raw",
    "status",
    "price",
    "quantity",
    "open_date",
    "listing_hash",
)
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


class ListingsFileError(ValueError, UserError):
    """The file cannot be read at all; the message names the file, the line and the column."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str | None
    rule: str
    value: str | None
    message: str
    sku: str | None = None


@dataclass
class ParsedListings:
    frame: pd.DataFrame
    problems: list[RowProblem] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str = "\t"
    header: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.frame) + len(self.problems)


def _header_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "-", name.strip().strip('"').casefold())


_ALIASES = {_header_key(alias): column for column, aliases in COLUMNS.items() for alias in aliases}


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """(line, column) of a byte offset, both 1-based (the column counts bytes)."""
    line = data.count(b"\n", 0, offset) + 1
    return line, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def decode(data: bytes, name: str) -> tuple[str, str]:
    """The text and the encoding it was read with (see the module docstring)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                line, column = _position(data, exc.start)
                raise ListingsFileError(
                    f"{name}: line {line}, column {column}: byte 0x{data[exc.start]:02X} is not valid {encoding} "
                    f"although the file starts with a {encoding} byte-order mark; save the file again as UTF-8"
                ) from None
    detected = encodings.detect(data)
    if detected.encoding == encodings.UTF8:
        return data.decode("utf-8"), "utf-8"
    if detected.encoding == encodings.MIXED and detected.invalid and detected.utf8:
        bad, good = detected.invalid, detected.utf8
        raise ListingsFileError(
            f"{name}: line {bad.line}, column {bad.column}{_field_at(data, bad.line, bad.column)}: byte "
            f"0x{bad.byte:02X} is not valid UTF-8, but line {good.line}, column {good.column}"
            f"{_field_at(data, good.line, good.column)} is UTF-8 text: the file mixes encodings. Save it again in "
            "one encoding (UTF-8 or Windows-1252/Latin-1)"
        )
    return encodings.decode_legacy(data)


def _field_at(data: bytes, line: int, column: int) -> str:
    """`` (field <header name>)`` for the byte at ``line`` and ``column``, when the header can be read."""
    first_line = data.split(b"\n", 1)[0].rstrip(b"\r")
    delimiter = _delimiter(first_line.decode("ascii", "replace"))
    if delimiter is None:
        return ""
    start = 0
    for _ in range(line - 1):
        start = data.index(b"\n", start) + 1
    index = data[start : start + column - 1].count(delimiter.encode())
    names = first_line.decode("ascii", "replace").split(delimiter)
    if index >= len(names) or _header_key(names[index]) not in _ALIASES:
        return ""  # only a column name MIP knows: nothing else of an unreadable file is repeated
    return f" (field {names[index].strip()})"


def _delimiter(header_line: str) -> str | None:
    counts = {d: header_line.count(d) for d in ("\t", ",", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else None


def _columns(header: list[str], name: str, delimiter: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        column = _ALIASES.get(_header_key(raw))
        if column is None:
            continue
        if column in found:
            raise ListingsFileError(
                f"{name}: line 1, columns {found[column] + 1} ({header[found[column]].strip()!r}) and {index + 1} "
                f"({raw.strip()!r}) both name the {column} column; keep one of them"
            )
        found[column] = index
    # Only what MIP recognised is named: the header of a file that is not a listings file is never repeated.
    shown = f"{len(header)} column(s), recognised: {', '.join(found) or 'none'}"
    for column in REQUIRED:
        if column not in found:
            raise ListingsFileError(
                f"{name}: line 1: no {COLUMNS[column][0]!r} column (also accepted: "
                f"{', '.join(COLUMNS[column][1:])}); the header has {shown} "
                f"(read as {'tab' if delimiter == chr(9) else repr(delimiter)}-separated). Use Amazon's column names "
                "(the merchant listings report's header)"
            )
    if not any(c in found for c in IDENTIFYING):
        raise ListingsFileError(
            f"{name}: line 1: none of the columns item-name, asin1, product-id: nothing identifies the products; "
            f"the header has {shown}"
        )
    return found


def listing_hash(
    sku: str, asin: str | None, gtin_key: str | None, fulfillment: str | None, item_name: str | None
) -> str:
    """What identifies a listing for a plan: a plan is stale once this changes for a planned SKU
    (price, quantity and status may change: they do not make a listing another product)."""
    parts = (sku, asin or "", gtin_key or "", fulfillment or "", normalise.normalise_text(item_name) or "")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _records(text: str, delimiter: str):
    """(first line, last line, fields) of each record."""
    if delimiter == "\t":  # Amazon's reports: one record per line, never quoted (titles may hold quotes)
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for number, line in enumerate(lines, start=1):  # not splitlines(): U+0085 etc. are text here
            yield number, number, line.rstrip("\r").split("\t")
        return
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    last = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ListingsFileError(f"line {reader.line_num}: {exc} (a quote opened and not closed?)") from None
        yield last + 1, reader.line_num, fields
        last = reader.line_num


def parse(data: bytes, name: str) -> ParsedListings:
    """Parse a listings file's bytes (``name`` is used in messages)."""
    import pandas as pd

    if not data.strip():
        raise ListingsFileError(f"{name}: line 1: the file is empty")
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        line, column = _position(data, data.index(b"\x00"))
        raise ListingsFileError(f"{name}: line {line}, column {column}: a NUL byte: this is not a text file")
    text, encoding = decode(data, name)
    text = text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0].rstrip("\r")
    delimiter = _delimiter(first_line)
    if delimiter is None:
        raise ListingsFileError(
            f"{name}: line 1: no tab, comma or semicolon between column names; a header row with Amazon's column "
            "names is needed"
        )
    records = _records(text, delimiter)
    try:
        _, _, header = next(records)
        columns = _columns(header, name, delimiter)
        rows, problems = _rows(records, header, columns)
    except ListingsFileError as exc:
        message = str(exc)
        raise ListingsFileError(message if message.startswith(name) else f"{name}: {message}") from None
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    frame["line"] = frame["line"].astype("int64")
    return ParsedListings(frame, problems, encoding, delimiter, [h.strip() for h in header])


def _rows(records, header: list[str], columns: dict[str, int]) -> tuple[list[tuple], list[RowProblem]]:
    width = len(header)
    rows: list[tuple] = []
    problems: list[RowProblem] = []
    sku_index = columns["sku"]
    for first, _last, fields in records:
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != width:
            sku = fields[sku_index].strip() if sku_index < len(fields) else None
            if len(fields) < width:
                column = header[len(fields)].strip()
                message = (
                    f"{len(fields)} fields where the header has {width}: column {len(fields) + 1} "
                    f"({column}) and the ones after it are missing"
                )
            else:
                column = None
                message = f"{len(fields)} fields where the header has {width}: a separator inside a value?"
            problems.append(RowProblem(first, column, "column_count", None, message, sku or None))
            continue
        rows.append(_row(first, fields, columns))
    return rows, problems


def _row(line: int, fields: list[str], columns: dict[str, int]) -> tuple:
    def value(column: str) -> str | None:
        index = columns.get(column)
        if index is None:
            return None
        text = fields[index].strip()
        return text or None

    sku = value("sku")
    item_name = value("item_name")
    asin = value("asin")
    product_id = value("product_id")
    raw_type = value("product_id_type")
    id_type = normalise.product_id_type(raw_type)
    if id_type is None and raw_type is None and product_id:
        # no type column: a 10-character id with letters is an ASIN, digits are a GTIN
        compact = normalise.compact_gtin(product_id) or ""
        id_type = "GTIN" if compact.isdigit() else ("ASIN" if len(product_id) == 10 else None)
    if asin is None and id_type == "ASIN":
        asin = product_id
    gtin = normalise.compact_gtin(product_id) if id_type in normalise.GTIN_TYPES else None
    gtin_key = normalise.gtin_key(gtin)
    raw_fulfillment = value("fulfillment")
    fulfillment = normalise.fulfillment(raw_fulfillment)
    digest = listing_hash(sku or "", asin, gtin_key, fulfillment, item_name)
    return (
        line,
        sku,
        item_name,
        asin,
        product_id,
        id_type,
        raw_type,
        gtin,
        gtin_key,
        value("brand"),
        fulfillment,
        raw_fulfillment,
        value("status"),
        value("price"),
        value("quantity"),
        value("open_date"),
        digest,
    )
