"""Rejected catalog rows: the rules, one message format, and writing them to ``mip.rejected_rows``.

Every rejection names the file, the physical line (1 = the header), the reference, the field, the
rule and the offending value, e.g. ``products.csv line 57, field ean, rule gtin_checksum: value
'8412800000006' has a wrong check digit (expected 5)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import psycopg

from mip.store.bulk import copy_rows

RULES = {
    "broken_encoding": "the line is not valid UTF-8 (e.g. Latin-1 bytes inside the UTF-8 file) or holds a NUL",
    "column_count": "the line has another number of fields than the header",
    "invalid_json": "a products.jsonl line is not a JSON object, or a field has the wrong JSON type",
    "missing_reference": "the reference is empty",
    "duplicate_reference": "the reference is on more than one line of the file: every one of those lines is "
    "rejected (which one is right cannot be known)",
    "gtin_format": "the EAN is not 12 (UPC-A) or 13 (EAN-13) digits",
    "gtin_checksum": "the EAN's check digit is wrong",
    "missing_name": "no name in the catalog language (catalog.language of the topology, default en)",
    "unparsable_number": "a number field is not a number ('.' as decimal point, no thousands separator)",
    "out_of_range": "a number is negative or too large for its column",
    "non_positive_cost": "cost_price is missing, zero or negative",
    "non_positive_price": "retail_price is zero or negative (it may be empty)",
    "negative_stock": "stock is negative",
    "unknown_vat_class": "vat_class is not standard, reduced or super_reduced",
    "missing_price": "the product has no line in prices.csv",
    "missing_stock": "the product has no line in stock.csv",
    "unknown_reference": "a prices.csv or stock.csv line names a reference the products file does not have",
}
# Rules of lines that could not be read: their content may be anything (a file that is no drop at all).
UNREADABLE_RULES = frozenset({"broken_encoding", "column_count", "invalid_json"})
COLUMNS = ("source", "run_id", "line", "record_key", "field", "rule", "value", "message")
MAX_VALUE_CHARS = 200


class Rejection(NamedTuple):
    source: str
    line: int
    record_key: str | None
    field: str | None
    rule: str
    value: str | None
    message: str


def printable(text: str | None) -> str | None:
    """``text`` safe for PostgreSQL and logs: undecodable bytes and NUL shown as ``\\xNN`` escapes."""
    if text is None:
        return None
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from surrogateescape: the original bytes
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def reject(
    source: str, line: int, reference: str | None, field: str | None, rule: str, value: str | None, detail: str
) -> Rejection:
    """A rejection with its message; ``detail`` completes "value '...' <detail>"."""
    assert rule in RULES, rule
    value = printable(value)
    if value is not None and len(value) > MAX_VALUE_CHARS:
        value = value[:MAX_VALUE_CHARS] + "…"
    where = f"{source} line {line}"
    if reference and field != "reference":
        where += f" (reference {printable(reference)})"
    if field:
        where += f", field {field}"
    what = f"value '{value}' {detail}" if value is not None else detail
    return Rejection(source, line, printable(reference) or None, field, rule, value, f"{where}, rule {rule}: {what}")


def loggable(rejection: Rejection) -> str:
    """The message for task logs: for an unreadable line, where and which rule only (the value, which repeats
    the line, stays in ``mip.rejected_rows``)."""
    if rejection.rule not in UNREADABLE_RULES:
        return rejection.message
    where = f"{rejection.source} line {rejection.line}" + (f", field {rejection.field}" if rejection.field else "")
    return f"{where}, rule {rejection.rule}: {RULES[rejection.rule]} (details in mip.rejected_rows)"


def write(conn: psycopg.Connection, rejections: Iterable[Rejection], run_id: str, sources: Iterable[str]) -> int:
    """COPY the rejections of ``run_id`` into ``mip.rejected_rows``.

    The run's earlier rejections from the same files go first, so a retried task does not count twice.
    """
    rows = [(r.source, run_id, r.line, r.record_key, r.field, r.rule, r.value, r.message) for r in rejections]
    conn.execute("DELETE FROM mip.rejected_rows WHERE run_id = %s AND source = ANY(%s)", (run_id, sorted(sources)))
    return copy_rows(conn, "mip.rejected_rows", COLUMNS, rows) if rows else 0
