"""Product identifiers (GTIN family) as Amazon accepts them: lengths, check digits (python-stdnum)
and the normalised 14-digit catalog key. Amazon takes EAN-8 and GTIN-14 too; MIP itself publishes
UPC-A and EAN-13 only (``mip.gtin``)."""

from __future__ import annotations

from stdnum import ean, isbn

LENGTHS = {"ean": (8, 13), "upc": (12,), "gtin": (8, 12, 13, 14), "jan": (8, 13), "isbn": (10, 13)}


def isbn10_ok(value: str) -> bool:
    return len(value) == 10 and isbn.is_valid(value)


def problem(id_type: str, value: str) -> str | None:
    """Why an identifier is invalid (length, characters, check digit), or None when it is valid."""
    kind = id_type.lower()
    if kind not in LENGTHS:
        return f"'{id_type}' is not a supported product identifier type (use one of {', '.join(LENGTHS)})"
    if kind == "isbn" and len(value) == 10:
        return None if isbn10_ok(value) else f"'{value}' is not a valid ISBN-10 (check digit)"
    if not value.isdigit():
        return f"'{value}' must contain digits only"
    if len(value) not in LENGTHS[kind]:
        allowed = " or ".join(str(n) for n in LENGTHS[kind])
        return f"'{value}' has {len(value)} digits; a {kind.upper()} has {allowed}"
    if not ean.is_valid(value):
        return f"'{value}' has an invalid check digit for a {kind.upper()}"
    return None


def catalog_key(id_type: str, value: str) -> str:
    """The 14-digit key the catalog uses, so a UPC and its EAN-13 form are the same product."""
    if id_type.lower() == "isbn" and len(value) == 10:
        value = isbn.to_isbn13(value)
    return value.zfill(14)
