"""Reading catalog files in chunks of records, with physical line numbers and the structural checks.

Each file's encoding is detected first (``mip.encodings``): UTF-8, or Windows-1252 when some line is
not UTF-8 and no line holds real UTF-8 text (a cp1252 byte pair that happens to be valid UTF-8,
``È”``, does not count). In a file that truly mixes both, the lines are read as UTF-8 one at a time,
so a line that is not (Latin-1 bytes inside the UTF-8 file) is caught with its number while the rest
of the file still loads; NUL characters count as broken encoding too (PostgreSQL text cannot hold
them). CSV records go through the ``csv`` module (quoted fields may hold ``;`` and line breaks; a
record's line is the physical line it starts on), then every record with the header's number of
fields becomes a row of a chunk DataFrame (all values ``str``, plus the line number and a digest of
the record as written, see ``mip.catalog.normalise.content_hash``), which ``mip.catalog.validate``
checks column-wise. Memory stays bounded by the chunk size whatever the file size.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from pathlib import Path
from typing import Any

import pandas as pd

from mip import encodings
from mip.catalog.rejections import Rejection, reject
from mip.catalog.supplier_format import DELIMITER, KNOWN_COLUMNS, CatalogSourceError

CHUNK_ROWS = 10_000
LINE = "_line"  # the column holding each record's physical line number
RAW_DIGEST = "_raw_digest"  # BLAKE2b of the record as written (its fields, or its JSON line)
_BAD_CHAR = re.compile("[\udc80-\udcff\x00]")
_JSON_REFERENCE = re.compile(rb'"reference"\s*:\s*"([^"]*)"')


@dataclass
class Chunk:
    """Records of one file: the well-formed ones as a frame, the others as rejections.

    ``keys`` holds (reference, line) of every record whose reference could be read, well-formed or
    not, so duplicate references and the set of products present in the drop count them all.
    """

    frame: pd.DataFrame
    rejections: list[Rejection] = field(default_factory=list)
    keys: list[tuple[str, int]] = field(default_factory=list)


def _bad_field(names: Sequence[str], values: Sequence[str]) -> tuple[str | None, str | None]:
    for name, value in zip(names, values, strict=False):
        if _BAD_CHAR.search(value):
            return name, value
    return None, None


def _encoding_detail(value: str | None, utf8_line: int | None = None) -> str:
    if value is not None and "\x00" in value:
        return "holds a NUL character"
    where = f"line {utf8_line} is UTF-8 text, so the file mixes encodings" if utf8_line else "the file is UTF-8"
    return (
        f"is not valid UTF-8 while {where} (undecodable bytes shown as \\x escapes); save the file again in one "
        "encoding"
    )


class _Lines:
    """The file's lines decoded one by one in the file's encoding; undecodable ones are noted (and decoded
    with escapes)."""

    def __init__(self, path: Path):
        self.path = path
        self.bad: list[int] = []
        self.detected = encodings.detect_file(path)
        self.utf8_line = self.detected.utf8.line if self.detected.utf8 else None

    def __iter__(self) -> Iterator[str]:
        legacy = self.detected.encoding == encodings.CP1252
        with self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    text = encodings.decode_legacy(raw)[0] if legacy else raw.decode("utf-8")
                except UnicodeDecodeError:
                    self.bad.append(number)
                    text = raw.decode("utf-8", "surrogateescape")
                else:
                    if "\x00" in text:
                        self.bad.append(number)
                if number == 1 and text.startswith("\ufeff"):
                    text = text[1:]  # a UTF-8 byte order mark
                yield text


def read_header(path: Path, required: Sequence[str]) -> list[str]:
    """The header of a CSV file, checked for ``required`` columns (``CatalogSourceError`` otherwise)."""
    lines = _Lines(path)
    row = next(csv.reader(lines, delimiter=DELIMITER), None)
    if row is None:
        raise CatalogSourceError(f"{path.name}: the file is empty (no header line)")
    return _check_header(path, row, bool(lines.bad), required)


def _check_header(path: Path, row: list[str], broken: bool, required: Sequence[str]) -> list[str]:
    if broken:
        raise CatalogSourceError(f"{path.name} line 1: the header is not valid UTF-8")
    header = [name.strip().lower() for name in row]
    # Messages name only the format's columns: the header of a file that is not a drop file is never repeated.
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        named = [name for name in duplicated if name in KNOWN_COLUMNS]
        unknown = len(duplicated) - len(named)
        listed = ", ".join(named + ([f"{unknown} unknown column name(s)"] if unknown else []))
        raise CatalogSourceError(f"{path.name} line 1: {listed} appear(s) twice in the header")
    missing = [name for name in required if name not in header]
    if missing:
        raise CatalogSourceError(
            f"{path.name} line 1: the header lacks column(s) {', '.join(missing)} "
            f"({len(header)} column(s) read; columns are separated by '{DELIMITER}')"
        )
    return header


def csv_chunks(
    path: Path, required: Sequence[str], chunk_rows: int = CHUNK_ROWS, *, digests: bool = True
) -> Iterator[Chunk]:
    """The records of a semicolon-separated file, ``chunk_rows`` at a time (with ``RAW_DIGEST``s if asked)."""
    lines = _Lines(path)
    reader = csv.reader(lines, delimiter=DELIMITER)
    first = next(reader, None)
    if first is None:
        raise CatalogSourceError(f"{path.name}: the file is empty (no header line)")
    header = _check_header(path, first, bool(lines.bad), required)
    width, ref_at, source = len(header), header.index("reference"), path.name
    consumed_bad = len(lines.bad)
    last_end = reader.line_num
    chunk = Chunk(pd.DataFrame())
    rows: list[list[str]] = []
    starts: list[int] = []
    raw_digests: list[bytes] | None = [] if digests else None
    joined = "\x1f".join
    for row in reader:
        start, last_end = last_end + 1, reader.line_num
        if not row:
            continue  # a blank line
        reference = row[ref_at].strip() if len(row) > ref_at else None
        if reference:
            chunk.keys.append((reference, start))
        if len(lines.bad) > consumed_bad:  # this record read an undecodable line
            consumed_bad = len(lines.bad)
            name, value = _bad_field(header, row)
            chunk.rejections.append(
                reject(
                    source, start, reference, name, "broken_encoding", value, _encoding_detail(value, lines.utf8_line)
                )
            )
        elif len(row) != width:
            chunk.rejections.append(
                reject(
                    source,
                    start,
                    reference,
                    None,
                    "column_count",
                    None,
                    f"the line has {len(row)} fields separated by '{DELIMITER}', the header has {width}",
                )
            )
        else:
            rows.append(row)
            starts.append(start)
            if raw_digests is not None:
                raw_digests.append(blake2b(joined(row).encode("utf-8", "surrogatepass"), digest_size=16).digest())
        if len(rows) >= chunk_rows:
            chunk.frame = _frame(header, rows, starts, raw_digests)
            yield chunk
            chunk, rows, starts = Chunk(pd.DataFrame()), [], []
            raw_digests = [] if digests else None
    chunk.frame = _frame(header, rows, starts, raw_digests)
    yield chunk


def _frame(
    header: Sequence[str], rows: list[list[str]], starts: list[int], digests: list[bytes] | None
) -> pd.DataFrame:
    # object columns of Python str: cheaper to build than pandas' "str" dtype, and every value is a str
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    data: dict[str, Any] = {
        name: pd.Series(list(values), dtype=object) for name, values in zip(header, columns, strict=True)
    }
    data[LINE] = pd.Series(starts, dtype="int64")
    if digests is not None:
        data[RAW_DIGEST] = pd.Series(digests, dtype=object)
    return pd.DataFrame(data)


# --- JSON lines ---------------------------------------------------------------------------------

_SCALARS = ("reference", "ean", "brand", "category", "vat_class", "weight_kg", "length_cm", "width_cm", "height_cm")


class _WrongType(ValueError):
    def __init__(self, field_name: str, expected: str):
        super().__init__(f"{field_name} must be {expected}")
        self.field = field_name


def _scalar(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | dict | list):
        raise _WrongType(name, "a string or a number")
    return value if isinstance(value, str) else repr(value)


def _texts(name: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str | None) for v in value.values()):
        raise _WrongType(name, 'an object of texts by language, e.g. {"it": "...", "en": "..."}')
    return {str(lang).strip().lower(): v or "" for lang, v in value.items()}


def _flatten(record: dict[str, Any]) -> dict[str, str]:
    row = {name: _scalar(name, record.get(name)) for name in _SCALARS}
    for lang, text in _texts("names", record.get("names")).items():
        row[f"name_{lang}"] = text
    for lang, text in _texts("descriptions", record.get("descriptions")).items():
        row[f"description_{lang}"] = text
    images = record.get("images")
    if isinstance(images, list) and all(isinstance(url, str) for url in images):
        row["images"] = "|".join(images)
    elif images is None or isinstance(images, str):
        row["images"] = images or ""
    else:
        raise _WrongType("images", "a list of URLs")
    return row


def _reference_of(raw: bytes) -> str | None:
    """The reference of a line that is not valid JSON, when it can still be seen."""
    found = _JSON_REFERENCE.search(raw)
    return (found.group(1).decode("utf-8", "surrogateescape").strip() or None) if found else None


def jsonl_chunks(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    """The records of a JSON lines products file (one object per line), ``chunk_rows`` at a time."""
    source = path.name
    chunk = Chunk(pd.DataFrame())
    rows: list[dict[str, str]] = []
    detected = encodings.detect_file(path)
    legacy = detected.encoding == encodings.CP1252
    utf8_line = detected.utf8.line if detected.utf8 else None
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            text = encodings.decode_legacy(raw)[0] if legacy else raw.decode("utf-8", "surrogateescape")
            try:
                record = json.loads(text)
                if not isinstance(record, dict):
                    raise ValueError(f"a JSON {type(record).__name__} instead of an object")
                reference = _scalar("reference", record.get("reference")).strip() or None
                if reference:
                    chunk.keys.append((reference, number))
                row = _flatten(record)
            except _WrongType as exc:
                chunk.rejections.append(
                    reject(source, number, _reference_of(raw), exc.field, "invalid_json", None, str(exc))
                )
                continue
            except ValueError as exc:
                reference = _reference_of(raw)
                if reference:
                    chunk.keys.append((reference, number))
                chunk.rejections.append(
                    reject(
                        source, number, reference, None, "invalid_json", None, f"the line is not a JSON object ({exc})"
                    )
                )
                continue
            if _BAD_CHAR.search(text):
                name, value = _bad_field(list(row), list(row.values()))
                chunk.rejections.append(
                    reject(
                        source, number, reference, name, "broken_encoding", value, _encoding_detail(value, utf8_line)
                    )
                )
                continue
            row[LINE] = number  # type: ignore[assignment]
            row[RAW_DIGEST] = blake2b(raw.rstrip(b"\r\n"), digest_size=16).digest()  # type: ignore[assignment]
            rows.append(row)
            if len(rows) >= chunk_rows:
                chunk.frame = _json_frame(rows)
                yield chunk
                chunk, rows = Chunk(pd.DataFrame()), []
    chunk.frame = _json_frame(rows)
    yield chunk


def _json_frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    columns = list(dict.fromkeys(name for row in rows for name in row)) or [*_SCALARS, "images"]
    data: dict[str, Any] = {
        name: pd.Series([row.get(name, "") for row in rows], dtype=object)
        for name in columns
        if name not in (LINE, RAW_DIGEST)
    }
    data[LINE] = pd.Series([row[LINE] for row in rows], dtype="int64")
    data[RAW_DIGEST] = pd.Series([row[RAW_DIGEST] for row in rows], dtype=object)
    return pd.DataFrame(data)
