"""Errors of the contacts domain (typed, so the app shell maps them to problems)."""
from crm_platform.errors import Conflict, InvalidInput, NotFound, StaleRevision


class ContactNotFound(NotFound):
    def __init__(self, contact_id: str, merged_into: str | None = None) -> None:
        if merged_into:
            super().__init__(f"contact {contact_id} was merged into contact {merged_into}", contact_id=contact_id,
                             merged_into=merged_into)
        else:
            super().__init__(f"contact {contact_id} does not exist in this account", contact_id=contact_id)


class InvalidContact(InvalidInput):
    """A contact that breaks a domain rule (e.g. nothing to identify it by)."""


class StaleContactRevision(StaleRevision):
    def __init__(self, contact_id: str, given: int, current: int) -> None:
        super().__init__(
            f"contact {contact_id} is at revision {current}, the change was based on revision {given}; "
            "re-read the contact and apply your change again",
            contact_id=contact_id,
            current_revision=current,
        )


class DuplicateContact(Conflict):
    """Another live contact of the account has the same normalised email or phone."""

    title = "Duplicate contact"
    slug = "duplicate-contact"

    def __init__(self, existing_contact_id: str, matched: str) -> None:
        super().__init__(
            f"contact {existing_contact_id} already has {matched}; update it, or send allow_duplicates=true",
            existing_contact_id=existing_contact_id,
            matched=matched,
        )


class MergeNotFinished(Conflict):
    """A merge stopped before deleting a source, leaving nothing lost: sending it again (or another first) finishes it."""

    title = "Merge not finished"
    slug = "merge-not-finished"
