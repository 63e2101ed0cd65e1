"""Document number patterns ("F-{YYYY}-{SEQ:4}" -> "F-2026-0001"), a small language of our own.

A pattern is literal text and three tokens: {YYYY} the fiscal year, {YY} its last two digits,
{SEQ:n} the sequence number zero-padded to at least n digits ({SEQ} is {SEQ:1}). It is parsed
into parts once and rendered by joining them: user text never reaches str.format or a template
engine, so it cannot read attributes ("{0.__class__}") or inject format specs ("{SEQ:>999999}").
Literals are letters, digits and - _ / . # (no space: French invoice numbers are one word);
exactly one SEQ and one year token (numbers restart each fiscal year, so the year keeps them
unique); at most 32 characters of pattern and 48 of rendered number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from crm_platform.errors import InvalidInput

INVOICE_PATTERN = "F-{YYYY}-{SEQ:4}"
CREDIT_NOTE_PATTERN = "AV-{YYYY}-{SEQ:4}"
QUOTE_PATTERN = "D-{YYYY}-{SEQ:4}"
MAX_PATTERN_LENGTH = 32
MAX_NUMBER_LENGTH = 48
MAX_SEQ_WIDTH = 10
MAX_SEQ = 10**12 - 1

_PART = re.compile(r"\{(YYYY|YY|SEQ(?::(\d{1,2}))?)\}|([A-Za-z0-9_./#-]+)", re.ASCII)


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors={field: [message]})


@dataclass(frozen=True)
class NumberPattern:
    """A parsed pattern: parts are ("text", literal), ("YYYY", 0), ("YY", 0) or ("SEQ", width)."""

    parts: tuple[tuple[str, str | int], ...]

    @classmethod
    def parse(cls, text: object, field: str = "pattern") -> NumberPattern:
        """The pattern of a client's text; InvalidInput naming the field when it is not one."""
        if not isinstance(text, str) or not 0 < len(text) <= MAX_PATTERN_LENGTH:
            raise _refuse(field, f"must be a text of 1 to {MAX_PATTERN_LENGTH} characters")
        parts: list[tuple[str, str | int]] = []
        position = 0
        while position < len(text):
            match = _PART.match(text, position)
            if match is None:
                raise _refuse(field, f"unexpected {text[position]!r} at position {position + 1}: use letters, "
                                     "digits, - _ / . # and the tokens {YYYY} {YY} {SEQ:n}")
            token, width, literal = match.groups()
            if literal is not None:
                parts.append(("text", literal))
            elif token.startswith("SEQ"):
                width = int(width or 1)
                if not 1 <= width <= MAX_SEQ_WIDTH:
                    raise _refuse(field, f"the width of {{SEQ:n}} is from 1 to {MAX_SEQ_WIDTH}")
                parts.append(("SEQ", width))
            else:
                parts.append((token, 0))
            position = match.end()
        kinds = [kind for kind, _ in parts]
        if kinds.count("SEQ") != 1:
            raise _refuse(field, "needs the sequence token {SEQ:n} exactly once")
        if kinds.count("YYYY") + kinds.count("YY") != 1:
            raise _refuse(field, "needs one year token, {YYYY} or {YY}, so that numbers stay unique across years")
        return cls(tuple(parts))

    @property
    def text(self) -> str:
        """The pattern as text: NumberPattern.parse(pattern.text) == pattern ({SEQ:1} is written {SEQ})."""
        def written(kind: str, value: str | int) -> str:
            if kind == "text":
                return str(value)
            if kind == "SEQ":
                return "{SEQ}" if value == 1 else "{SEQ:%d}" % value
            return "{%s}" % kind

        return "".join(written(kind, value) for kind, value in self.parts)

    def render(self, fiscal_year: int, seq: int) -> str:
        """The number of document `seq` (from 1) of `fiscal_year`."""
        if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int) or not 1 <= fiscal_year <= 9999:
            raise _refuse("fiscal_year", "must be a year from 1 to 9999")
        if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
            raise _refuse("seq", f"must be a whole number from 1 to {MAX_SEQ}")
        rendered = {"YYYY": "%04d" % fiscal_year, "YY": "%02d" % (fiscal_year % 100)}
        return "".join(value if kind == "text" else str(seq).zfill(value) if kind == "SEQ" else rendered[kind]
                       for kind, value in self.parts)

    def match(self, number: str) -> tuple[int | None, int] | None:
        """(fiscal year, seq) of a number this pattern rendered, or None; the year is None with {YY}."""
        if not isinstance(number, str) or len(number) > MAX_NUMBER_LENGTH:
            return None
        found = self._regex().fullmatch(number)
        if found is None:
            return None
        year = found.group("YYYY") if "YYYY" in self._regex().groupindex else None
        seq_text = found.group("SEQ")
        width = next(value for kind, value in self.parts if kind == "SEQ")
        if (len(seq_text) > width and seq_text.startswith("0")) or int(seq_text) == 0:
            return None  # rendering pads to the width, never beyond it, and counts from 1
        return (int(year) if year is not None else None), int(seq_text)

    def _regex(self) -> re.Pattern:
        pieces = {"YYYY": r"(?P<YYYY>\d{4})", "YY": r"(?P<YY>\d{2})"}
        return re.compile("".join(re.escape(value) if kind == "text" else
                                  r"(?P<SEQ>\d{%d,12})" % value if kind == "SEQ" else pieces[kind]
                                  for kind, value in self.parts), re.ASCII)


DEFAULT_PATTERNS = {
    "invoice": NumberPattern.parse(INVOICE_PATTERN),
    "credit_note": NumberPattern.parse(CREDIT_NOTE_PATTERN),
    "quote": NumberPattern.parse(QUOTE_PATTERN),
}
