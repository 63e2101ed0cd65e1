"""What billing does about a contact merged into another, beyond its customers read model (issue 14)."""
from __future__ import annotations

from typing import Protocol

from crm_platform.contracts.contacts import ContactDeleted, ContactLifecycleEvent


class MergingTimelines(Protocol):
    """The timeline follower (crm_platform.timeline_follower.TimelineFollower), as a merge needs it."""

    def move_contact(self, account_id: str, from_contact_id: str, to_contact_id: str) -> int:
        """The merged contact's entries now the survivor's (none for an erased survivor); how many moved."""


def move_merged_contact_timeline(event: ContactLifecycleEvent, timelines: MergingTimelines) -> int:
    """A contact deleted as merged into another (contacts' merge deletes each source so): its timeline entries are
    the survivor's now; how many moved. Idempotent: re-delivered, nothing is left to move."""
    if isinstance(event, ContactDeleted) and event.merged_into:
        return timelines.move_contact(event.account_id, event.contact_id, event.merged_into)
    return 0
