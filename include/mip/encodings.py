"""Which encoding a text file from a seller or a supplier is in: UTF-8, Windows-1252, or truly mixed.

The rule, per file (no BOM; files with a byte-order mark say their encoding themselves):

- every line is valid UTF-8 -> ``utf-8``;
- some line is not valid UTF-8 -> the file is in a legacy encoding (``cp1252``, Latin-1 for the five
  bytes cp1252 leaves undefined), *unless* another line holds UTF-8 evidence, then it is ``mixed``.

UTF-8 evidence is a multi-byte UTF-8 sequence that decodes to a character European product texts use
(Latin-1 Supplement and Latin Extended-A, U+00A0-U+017F: ``ä é ñ ő ł š``; general punctuation, currency
and letter-like symbols: ``– “ … € ™``; emoji). A cp1252 byte pair can form valid UTF-8 by chance, an
accented capital followed by a typographic quote or dash (``È”`` = C8 94 = U+0214, ``Ù…`` = D9 85 =
U+0645, ``ß“`` = DF 93 = U+07D3): those decode to letters of other scripts, are no evidence, and the
file is read as cp1252. Real UTF-8 text in a cp1252 file (``Ã¨`` for ``è``) is evidence.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

UTF8, CP1252, MIXED = "utf-8", "cp1252", "mixed"
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Position:
    """A byte of a file: its line and column (1-based; the column counts bytes) and its value."""

    line: int
    column: int
    byte: int


@dataclass(frozen=True)
class Detected:
    encoding: str  # UTF8, CP1252 or MIXED
    utf8: Position | None = None  # the first byte of the first UTF-8 evidence (MIXED only)
    invalid: Position | None = None  # the first byte that is not UTF-8 (CP1252 and MIXED)


def is_utf8_evidence(char: str) -> bool:
    """A character that UTF-8 product text holds, and that no cp1252 byte pair plausibly decodes to."""
    code = ord(char)
    return 0xA0 <= code <= 0x17F or 0x2000 <= code <= 0x214F or code >= 0x1F000


def _evidence_column(text: str) -> int | None:
    """The byte column (1-based) of the first evidence character of a decoded UTF-8 line."""
    for index, char in enumerate(text):
        if ord(char) > 0x7F and is_utf8_evidence(char):
            return len(text[:index].encode("utf-8")) + 1
    return None


def _is_utf8(blocks: Iterable[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for block in blocks:
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_lines(lines: Iterable[bytes]) -> Detected:
    """The encoding of a file given as its raw lines (see the module docstring)."""
    utf8: Position | None = None
    invalid: Position | None = None
    for number, raw in enumerate(lines, start=1):
        if raw.isascii():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            invalid = invalid or Position(number, exc.start + 1, raw[exc.start])
        else:
            if utf8 is None and (column := _evidence_column(text)) is not None:
                utf8 = Position(number, column, raw[column - 1])
        if utf8 and invalid:
            return Detected(MIXED, utf8, invalid)
    return Detected(CP1252, None, invalid) if invalid else Detected(UTF8)


def detect(data: bytes) -> Detected:
    """The encoding of a file's bytes."""
    if _is_utf8([data]):
        return Detected(UTF8)
    return detect_lines(io.BytesIO(data))


def detect_file(path: Path) -> Detected:
    """The encoding of a file, read in blocks (memory stays small whatever the size)."""
    with path.open("rb") as handle:
        if _is_utf8(iter(lambda: handle.read(_BLOCK), b"")):
            return Detected(UTF8)
        handle.seek(0)
        return detect_lines(handle)


def decode_legacy(raw: bytes) -> tuple[str, str]:
    """(text, encoding): cp1252, or Latin-1 when a byte is one of the five cp1252 leaves undefined."""
    try:
        return raw.decode("cp1252"), CP1252
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"
