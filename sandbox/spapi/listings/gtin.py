"""Product identifiers (GTIN family): check digits and the normalised 14-digit catalog key."""

from __future__ import annotations

LENGTHS = {"ean": (8, 13), "upc": (12,), "gtin": (8, 12, 13, 14), "jan": (8, 13), "isbn": (10, 13)}


def gtin_check_digit_ok(digits: str) -> bool:
    """GS1 mod-10 check digit (EAN-8/13, UPC-A, GTIN-14, ISBN-13)."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def isbn10_ok(value: str) -> bool:
    if len(value) != 10 or not value[:9].isdigit() or not (value[9].isdigit() or value[9] in "Xx"):
        return False
    total = sum((10 - i) * int(d) for i, d in enumerate(value[:9]))
    total += 10 if value[9] in "Xx" else int(value[9])
    return total % 11 == 0


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
    if not gtin_check_digit_ok(value):
        return f"'{value}' has an invalid check digit for a {kind.upper()}"
    return None


def catalog_key(id_type: str, value: str) -> str:
    """The 14-digit key the catalog uses, so a UPC and its EAN-13 form are the same product."""
    if id_type.lower() == "isbn" and len(value) == 10:
        body = "978" + value[:9]
        total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
        value = body + str((10 - total % 10) % 10)
    return value.zfill(14)
