"""Text no service stores: NUL, other non-whitespace control characters, unpaired surrogates; JSON nested too deep.

PostgreSQL (under FerretDB) refuses NUL in any string and UTF-8 cannot encode a
lone surrogate, so such a value accepted by an API fails later, in a read
model, where it used to stall a consumer instead of answering the client. The
other C0 controls (escape, backspace, bell...) are refused too: they have no
place in a name or a note and are how terminal and log injection is done.
Whitespace controls stay (tab, line feed, carriage return, and the vertical tab
and form feed that Word pastes for a manual line break). A request's path,
query and JSON body are checked at the edge (crm_platform.web); domains check
what reaches them by other paths (imported files) with `text_problem`.
"""
from __future__ import annotations

import re

MAX_JSON_DEPTH = 32
# C0 controls but the whitespace ones (tab, LF, VT, FF, CR); unpaired surrogates.
_UNREADABLE = re.compile(r"[\x00-\x08\x0e-\x1f\ud800-\udfff]")
# The control-character rule for the OpenAPI document (ECMA-262 and Python read it alike), so clients and
# fuzzers know it; unpaired surrogates are left out of it, since a UTF-16 regex would refuse every emoji.
STORABLE_TEXT_PATTERN = r"^[^\u0000-\u0008\u000e-\u001f]*$"


def text_problem(value: str) -> str | None:
    """Why this text cannot be stored, or None when it can."""
    match = _UNREADABLE.search(value)
    if match is None:
        return None
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        return "contains an unpaired surrogate (not valid Unicode text)"
    return f"contains the control character U+{ord(char):04X}"


def shown(name: str) -> str:
    """A name safe to echo in an error: what cannot be stored written as a \\uXXXX escape."""
    return _UNREADABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", name)


def json_problems(data: object, max_depth: int = MAX_JSON_DEPTH) -> dict[str, list[str]]:
    """Problems of a parsed JSON document, by dotted path ("emails.0.address"); empty when it can be stored."""
    problems: dict[str, list[str]] = {}
    stack: list[tuple[object, str, int]] = [(data, "", 0)]
    while stack:  # iterative: a deep document must not exhaust Python's recursion
        value, path, depth = stack.pop()
        if depth > max_depth:
            problems.setdefault(path or "_schema", []).append(f"nested more than {max_depth} levels deep")
            continue
        if isinstance(value, str):
            if (problem := text_problem(value)) is not None:
                problems.setdefault(path or "_schema", []).append(problem)
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{shown(str(key))}" if path else shown(str(key))
                if (problem := text_problem(str(key))) is not None:
                    problems.setdefault(path or "_schema", []).append(f"a field name {problem}")
                    continue
                stack.append((item, child, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}.{i}" if path else str(i), depth + 1) for i, item in enumerate(value))
    return problems
