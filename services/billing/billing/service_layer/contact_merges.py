"""What billing does about a contact merged into another, beyond its customers read model (issue 14)."""
from __future__ import annotations

from crm_platform.contracts.contacts import ContactDeleted, ContactLifecycleEvent
from crm_platform.timeline_follower import MergingTimelines


def move_merged_contact_timeline(event: ContactLifecycleEvent, timelines: MergingTimelines) -> int:
    """A contact deleted as merged into another (contacts' merge deletes each source so): its timeline entries are
    the survivor's now; how many moved. Idempotent: re-delivered, nothing is left to move."""
    if isinstance(event, ContactDeleted) and event.merged_into:
        return timelines.move_contact(event.account_id, event.contact_id, event.merged_into)
    return 0
