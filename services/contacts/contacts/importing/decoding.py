"""Bytes to text: byte-order marks, UTF-8 first, then charset-normalizer with a Western-European bias.

Our users' files come from Excel in France more than anywhere else, so when
charset-normalizer hesitates between single-byte code pages that all read the
file without chaos, Windows-1252 (what French Excel writes) wins.
"""
from __future__ import annotations

import codecs

import charset_normalizer

from contacts.importing.errors import InvalidImportOptions, UnreadableFile

_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WESTERN = "cp1252"
_CHAOS_TOLERANCE = 0.01


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text of `data` and the encoding used, detected unless `encoding` overrides it.

    Encodings are Python codec names ('utf-8', 'utf-8-sig', 'utf-16-le',
    'cp1252'...), so a detected one can be given back as an override. A BOM is
    never part of the text, and neither is a NUL character (no database
    stores one the same way: FerretDB refuses it). Raises InvalidImportOptions
    for an unknown or unfitting override, UnreadableFile when nothing decodes
    the bytes or they decode to a NUL.
    """
    if encoding is not None:
        text = _decode_as(data, _checked_encoding(encoding))
        if (at := text.find("\x00")) >= 0:
            message = f"read as {encoding}, the file holds a NUL character at position {at}: try another encoding"
            raise InvalidImportOptions(message, errors={"encoding": [message]})
        return text, encoding
    detected = detect_encoding(data)
    try:
        text = _decode_as(data, detected)
    except InvalidImportOptions:
        raise UnreadableFile(f"the file is not text in a known encoding (best guess {detected})") from None
    if (at := text.find("\x00")) >= 0:  # UTF-16 and UTF-32 carry NUL bytes, but their text never a NUL character
        raise UnreadableFile(f"read as {detected}, the file holds a NUL character (U+0000) at position {at}, which "
                             "text does not: save it again as UTF-8")
    return text, detected


def detect_encoding(data: bytes) -> str:
    """A BOM's encoding, else UTF-16 by its NUL bytes, else 'utf-8' when valid, else charset-normalizer's guess."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if (utf16 := _utf16_without_bom(data[:4096])):
        return utf16
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        return _WESTERN
    least_chaos = min(match.chaos for match in matches)
    for match in matches:
        if match.chaos <= least_chaos + _CHAOS_TOLERANCE and _WESTERN in match.could_be_from_charset:
            return _WESTERN
    return matches[0].encoding


def writing_encoding(encoding: str) -> tuple[str, bool]:
    """How to write text that reads back as `encoding` (an upload's): the codec, and whether to start with a BOM.

    UTF-16 and UTF-32 always start with one: Excel (and `detect_encoding`) recognise "Unicode text" by it.
    """
    name = codecs.lookup(_checked_encoding(encoding)).name
    if name == "utf-8-sig":
        return "utf-8", True
    if name in ("utf-16", "utf-32"):  # these codecs would put a BOM before every chunk: the byte order is ours
        return f"{name}-le", True
    return name, name.startswith(("utf-16", "utf-32"))


def _utf16_without_bom(head: bytes) -> str | None:
    """Text never holds NUL bytes, but UTF-16 puts one beside every ASCII character."""
    if b"\x00" not in head or len(head) < 4:
        return None
    even, odd = head[0::2].count(0) / (len(head) / 2), head[1::2].count(0) / (len(head) / 2)
    if odd > 0.3 and odd > 2 * even:
        return "utf-16-le"
    if even > 0.3 and even > 2 * odd:
        return "utf-16-be"
    return None


def _checked_encoding(encoding: str) -> str:
    try:
        text_encoding = codecs.lookup(encoding)._is_text_encoding  # rot13, base64... are codecs, not encodings
    except LookupError:
        text_encoding = False
    if not text_encoding:
        message = f"unknown encoding {encoding!r}; try utf-8 or cp1252"
        raise InvalidImportOptions(message, errors={"encoding": [message]})
    return encoding


def _decode_as(data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        message = f"the file is not valid {encoding}: byte {data[exc.start]:#04x} at position {exc.start}"
        raise InvalidImportOptions(message, errors={"encoding": [message]}) from None
    except (UnicodeError, LookupError) as exc:
        message = f"the file cannot be read as {encoding}: {exc}"
        raise InvalidImportOptions(message, errors={"encoding": [message]}) from None
    return text[1:] if text.startswith("\ufeff") else text
