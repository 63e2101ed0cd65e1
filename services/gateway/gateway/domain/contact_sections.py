"""The sections of a contact's aggregated read (GET /v1/contacts/{id}/360, or ?include=): which service serves each,
and at which of its list endpoints (issue 14, item 1).

A section names its owning service by its registry name (crm_platform/services.toml); a gateway without that
service leaves the section out. Each section is the first page of the service's own list, so the service applies
the account's scoping and its rules (an erased or deleted contact, a merged one) exactly as for a proxied read.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from crm_platform.errors import InvalidInput

INCLUDE = "include"
MAX_INCLUDE_LENGTH = 200  # every section name once, comma-separated, is well under this
SECTION_PAGE_SIZE = 20


class SectionStatus(str, enum.Enum):
    OK = "ok"
    TIMEOUT = "timeout"  # no answer within the section deadline
    UNAVAILABLE = "unavailable"  # the service is down, failed, or refused the section's request
    AS_OF_UNSUPPORTED = "as_of_unsupported"  # a read `as_of` a moment: its service cannot show the past (not asked)


@dataclass(frozen=True)
class Section:
    name: str
    service: str  # the owning service's registry name
    path: str  # the service's list endpoint; `{contact_id}` is the contact's id
    by_contact: bool = False  # an account-wide list, filtered with ?contact_id=
    paged: bool = True  # takes limit/cursor and answers next_cursor
    as_of: bool = False  # its service answers its list as it was at a moment (?as_of=)

    def request(self, contact_id: str, limit: int = SECTION_PAGE_SIZE,
                as_of: str | None = None) -> tuple[str, list[tuple[str, str]]]:
        """The path and query of the section's first page (as it was at `as_of`, for a section that can say)."""
        params = [("contact_id", contact_id)] if self.by_contact else []
        if self.paged:
            params.append(("limit", str(limit)))
        if as_of is not None and self.as_of:
            params.append(("as_of", as_of))
        return self.path.format(contact_id=contact_id), params


# labels: the account's labels (the contact holds their keys), joined to the contact's to give their names; read
# `as_of` a moment, both as they were then
SECTIONS = (
    Section("labels", "contacts", "/v1/labels", paged=False, as_of=True),
    Section("notes", "contacts", "/v1/contacts/{contact_id}/notes", as_of=True),
    Section("attachments", "contacts", "/v1/contacts/{contact_id}/attachments"),
    Section("invoices", "billing", "/v1/invoices", by_contact=True),
    Section("quotes", "billing", "/v1/quotes", by_contact=True),
    Section("cards", "workflows", "/v1/cards", by_contact=True),
    Section("tasks", "workflows", "/v1/tasks", by_contact=True),
)
# timeline: the first page of the contact's merged timeline, from every service that keeps one (contact_timeline.py)
TIMELINE = "timeline"
SECTION_NAMES = (*(section.name for section in SECTIONS), TIMELINE)


def requested_sections(include: str | None, served_by: frozenset[str] | set[str]) -> tuple[Section, ...]:
    """The sections `include` names (None: every one), in the table's order, without those of a service the
    gateway does not route to; InvalidInput (422 naming `include`) for an unknown name or an overlong value.
    A name given twice counts once. The timeline is no Section of one service: `timeline_requested` says if it is."""
    names = _names(include)
    return tuple(section for section in SECTIONS if section.name in names and section.service in served_by)


def timeline_requested(include: str | None) -> bool:
    """Whether `include` (None: every section) names the timeline; InvalidInput as requested_sections raises it."""
    return TIMELINE in _names(include)


def _names(include: str | None) -> set[str]:
    if include is None:
        names = set(SECTION_NAMES)
    else:
        if len(include) > MAX_INCLUDE_LENGTH:
            raise InvalidInput(f"`{INCLUDE}` is too long", {INCLUDE: [f"at most {MAX_INCLUDE_LENGTH} characters"]})
        names = {name.strip() for name in include.split(",") if name.strip()}
        unknown = sorted(names - set(SECTION_NAMES))
        if unknown:
            raise InvalidInput(f"`{INCLUDE}` names unknown sections", {INCLUDE: [
                f"unknown sections {', '.join(unknown)[:100]}; known: {', '.join(SECTION_NAMES)}"]})
    return names


def can_be_read(section: Section, as_of: str | None) -> bool:
    """Whether the section is asked of its service: always, but `as_of` a moment only if it can show the past."""
    return as_of is None or section.as_of


def label_names(label_keys: list[str], labels: list[dict]) -> list[dict]:
    """The contact's labels as {key, name}, in the contact's order; a key no live label has is left out."""
    names = {label.get("key"): label.get("name") for label in labels if isinstance(label, dict)}
    return [{"key": key, "name": names[key]} for key in label_keys if key in names]
