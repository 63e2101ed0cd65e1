"""How the details of up to five contacts are combined into one (the target's) without losing list values.

- Emails, phones, addresses and websites: the target's entries first, then each
  source's entries it does not have yet (same address ignoring case, same
  E.164 number, same address lines, same URL); the target's primary stays primary.
- Labels: the union. Custom field values: the target's, then the sources' for
  fields the target has no value in.
- Single values (names, company, function, VAT...): the target's; a source's
  fills one only where the target has none.
"""
from __future__ import annotations

from contacts.domain.contact_fields import MAX_ENTRIES, FieldProblems
from contacts.domain.errors import InvalidContact

MAX_SOURCES = 5
SINGLE_FIELDS = ("first_name", "last_name", "company", "job_title", "code", "function", "department",
                 "vat_number", "info_email")
SAME_ENTRY = {
    "emails": lambda e: e["address"].casefold(),
    "phones": lambda p: p.get("e164") or p["number"],
    "addresses": lambda a: (tuple(a.get("street", [])), a.get("postal_code"), a.get("city"), a.get("region"),
                            a.get("country")),
    "websites": lambda url: url,
}


def merge_details(target: dict, sources: list[dict]) -> dict:
    """The combined details; InvalidContact if a list would pass its limit."""
    merged = {k: v for k, v in target.items()}
    for name in SINGLE_FIELDS:
        if not merged.get(name):
            value = next((s[name] for s in sources if s.get(name)), None)
            if value:
                merged[name] = value
    problems = FieldProblems()
    for name, same in SAME_ENTRY.items():
        entries = list(target.get(name, []))
        seen = {same(entry) for entry in entries}
        for source in sources:
            for entry in source.get(name, []):
                if same(entry) not in seen:
                    seen.add(same(entry))
                    entries.append({**entry, "primary": False} if isinstance(entry, dict) and "primary" in entry else entry)
        if entries and isinstance(entries[0], dict) and "primary" in entries[0] and not any(e["primary"] for e in entries):
            entries[0] = {**entries[0], "primary": True}  # the target had none: the first source's entry leads
        if len(entries) > MAX_ENTRIES:
            problems.add((name,), f"the merged contact would have {len(entries)}; at most {MAX_ENTRIES}")
        merged[name] = entries
    if problems:
        raise InvalidContact("these contacts cannot be merged into one", errors=problems.errors)
    merged["labels"] = list(dict.fromkeys([*target.get("labels", []), *(k for s in sources for k in s.get("labels", []))]))
    custom: dict = {}
    for source in reversed(sources):
        custom.update(source.get("custom_fields", {}))
    merged["custom_fields"] = {**custom, **target.get("custom_fields", {})}
    return merged
