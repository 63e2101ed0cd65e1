"""Following contact merges in a service's record of its contacts: through later merges, within one account."""
from crm_platform.merges import MAX_MERGE_HOPS, merged_document, survivor
from crm_platform.testing.in_memory_collection import InMemoryCollection


def _contacts(*docs: dict) -> InMemoryCollection:
    collection = InMemoryCollection()
    for doc in docs:
        collection.insert_one(doc)
    return collection


def test_a_contact_merged_twice_leads_to_the_last_survivor():
    contacts = _contacts({"_id": "a", "account_id": "acct-1", "merged_into": "b"},
                         {"_id": "b", "account_id": "acct-1", "merged_into": "c"},
                         {"_id": "c", "account_id": "acct-1", "name": "kept"})
    assert survivor(contacts, "acct-1", "a") == "c"
    assert merged_document(contacts, "acct-1", "a") == {"_id": "c", "account_id": "acct-1", "name": "kept"}
    assert survivor(contacts, "acct-1", "c") == "c" and merged_document(contacts, "acct-1", "c")["_id"] == "c"


def test_an_unknown_contact_is_its_own_survivor_and_has_no_document():
    assert survivor(_contacts(), "acct-1", "x") == "x" and merged_document(_contacts(), "acct-1", "x") is None


def test_a_survivor_never_seen_created_is_still_named():
    contacts = _contacts({"_id": "a", "account_id": "acct-1", "merged_into": "z"})
    assert survivor(contacts, "acct-1", "a") == "z" and merged_document(contacts, "acct-1", "a") is None


def test_another_accounts_contact_leads_nowhere():
    contacts = _contacts({"_id": "a", "account_id": "acct-2", "merged_into": "b"},
                         {"_id": "b", "account_id": "acct-2"})
    assert survivor(contacts, "acct-1", "a") == "a" and merged_document(contacts, "acct-1", "a") is None


def test_a_chain_longer_than_the_bound_stops_there():
    chain = [{"_id": f"c{i}", "account_id": "acct-1", "merged_into": f"c{i + 1}"} for i in range(MAX_MERGE_HOPS + 5)]
    assert survivor(_contacts(*chain), "acct-1", "c0") == f"c{MAX_MERGE_HOPS}"
