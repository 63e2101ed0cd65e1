"""The contract every ProcessingRestrictions keeps; run against the fake AND the MongoDB projection.

Subclass `ProcessingRestrictionsContract` and provide a `restrictions` fixture.
"""
from __future__ import annotations

import pytest

from crm_platform.processing_restrictions import ProcessingRestricted


class ProcessingRestrictionsContract:
    def test_restricted_contacts_are_told_apart_per_account(self, restrictions):
        restrictions.restrict("acct-1", ["c1", "c2"], "r1")
        assert restrictions.restricted("acct-1", ["c1", "c2", "c3"]) == {"c1", "c2"}
        assert restrictions.restricted("acct-2", ["c1"]) == set()
        assert restrictions.restricted("acct-1", []) == set()

    def test_applying_or_lifting_twice_changes_nothing(self, restrictions):
        restrictions.restrict("acct-1", ["c1"], "r1")
        restrictions.restrict("acct-1", ["c1"], "r1")  # redelivered
        restrictions.lift("acct-1", ["c1"], "r1")
        assert restrictions.restricted("acct-1", ["c1"]) == set()
        restrictions.lift("acct-1", ["c1"], "r1")  # redelivered
        restrictions.lift("acct-1", ["c9"], "r1")  # never restricted
        assert restrictions.restricted("acct-1", ["c1", "c9"]) == set()

    def test_a_contact_stays_restricted_while_another_request_restricts_it(self, restrictions):
        restrictions.restrict("acct-1", ["c1"], "r1")
        restrictions.restrict("acct-1", ["c1"], "r2")
        restrictions.lift("acct-1", ["c1"], "r1")
        assert restrictions.restricted("acct-1", ["c1"]) == {"c1"}
        restrictions.lift("acct-1", ["c1"], "r2")
        assert restrictions.restricted("acct-1", ["c1"]) == set()

    def test_an_erasure_ends_every_restriction_of_the_contacts(self, restrictions):
        restrictions.restrict("acct-1", ["c1", "c2"], "r1")
        restrictions.restrict("acct-1", ["c1"], "r2")
        restrictions.forget("acct-1", ["c1"])
        assert restrictions.restricted("acct-1", ["c1", "c2"]) == {"c2"}

    def test_an_edit_of_a_restricted_contact_is_refused_naming_it(self, restrictions):
        restrictions.restrict("acct-1", ["c1"], "r1")
        restrictions.refuse_edits("acct-1", ["c2"])  # not restricted: nothing raised
        with pytest.raises(ProcessingRestricted) as refused:
            restrictions.refuse_edits("acct-1", ["c2", "c1"])
        assert refused.value.status == 409 and refused.value.slug == "processing-restricted"
        assert refused.value.extra == {"contact_ids": ["c1"]}
