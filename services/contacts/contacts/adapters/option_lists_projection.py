"""The read model of option lists (`option_lists`)."""
from __future__ import annotations

from crm_platform.envelope import EventEnvelope
from crm_platform.projections import Projection, versioned_upsert

from contacts.domain.option_lists import OptionList, OptionListEvent


class OptionListsProjection(Projection):
    """One document per list (`options:<kind>:<account>`) holding its options in order.

    A list the account never changed has no document: readers fall back to the defaults.
    """

    aggregate_type = OptionList.aggregate_type

    def project(self, envelope: EventEnvelope, event: OptionListEvent, rebuilding: bool) -> bool:
        # every event carries the whole list after it
        fields = {"account_id": envelope.account_id, "kind": event.kind, "options": list(event.options)}
        return versioned_upsert(self.collection, envelope.aggregate_id, envelope.aggregate_version, fields,
                                replace_same_version=rebuilding)
