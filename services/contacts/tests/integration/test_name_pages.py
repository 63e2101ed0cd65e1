"""Lists sorted by a name, read initial by initial, on the real MongoDB server (FerretDB in `make test`)."""
import base64
import json

import pytest
from pymongo import MongoClient

from crm_platform.errors import InvalidInput
from crm_platform.pagination import keyset_page
from crm_platform.projection_batches import apply_in_bulk
from crm_platform.testing.statements import Statements

from contacts import contact_pages
from contacts.adapters.name_initials import EVERY_CONTACT_HAS_INITIALS, NameInitials, initial_fields
from contacts.adapters.search_keys import search_fields
from contacts.contact_query import ContactQuery, build_filter, find_page

from .conftest import every_page, headers

# names whose initials are many of the classes, accents and case folded; two with the same name
LAST_NAMES = ["Martin", "martin", "Émile", "Zoé", "Øster", "Ábel", "", "1789", "_x", "'t Hooft", "Ωmega",
              "Bernard", "bertrand", "Dubois", "Müller", "Nguyễn", "Ng", "Łukasz", "yves", "Zz", "", "Abel", "ábel",
              "#7"]


def contact(n: int, last_name: str, account="acct-1", **fields) -> dict:
    details = {"first_name": LAST_NAMES[-1 - n % len(LAST_NAMES)], "last_name": last_name}
    return {"_id": f"c{n:03}", "account_id": account, "deleted": False, "version": 1,
            "labels": ["rare"] if n % 5 == 0 else [], **search_fields(details), **fields}


@pytest.fixture
def stored(mongo_db):
    contacts = mongo_db["contacts"]
    documents = [contact(n, name) for n, name in enumerate(LAST_NAMES * 2)]
    documents[3]["deleted"] = True
    contacts.insert_many(documents + [contact(900, "Aaron", account="acct-2")])
    return contacts, [d for d in documents if not d["deleted"]]


def in_order(documents: list[dict], field: str, descending: bool, rare: bool = False) -> list[str]:
    kept = [d for d in documents if not rare or "rare" in d["labels"]]
    return [d["_id"] for d in sorted(kept, key=lambda d: (d[field], d["_id"]), reverse=descending)]


@pytest.mark.parametrize("scanning", [False, True], ids=["walked", "scanning server"])
def test_pages_sorted_by_a_name_read_the_initials_in_the_names_order(stored, mongo_db, monkeypatch, scanning):
    contacts, live = stored
    asked = []
    monkeypatch.setattr(contact_pages, "server_scans_for", lambda collection, sample: asked.append(sample) or scanning)
    initials = NameInitials(mongo_db["contact_list_markers"], contacts)
    initials.give_initials()
    assert initials.everywhere()
    for sort, field in (("last_name", "sort_last_name"), ("first_name", "sort_first_name")):
        for descending in (False, True):
            public = f"-{sort}" if descending else sort
            for limit in (1, 3, 50):
                assert every_page(contacts, ContactQuery(sort=public), limit, initials=initials) == \
                    in_order(live, field, descending)
                assert every_page(contacts, ContactQuery(sort=public, labels_any=["rare"]), limit,
                                  initials=initials) == \
                    in_order(live, field, descending, rare=True)
    assert asked and all(set(sample) in ({"account_id", "sort_last_initial"}, {"account_id", "sort_first_initial"})
                         for sample in asked)


def test_a_page_reads_initials_by_equality_until_it_is_full(infra, stored, mongo_db, monkeypatch):
    contacts, live = stored
    monkeypatch.setattr(contact_pages, "server_scans_for", lambda collection, sample: False)
    initials = NameInitials(mongo_db["contact_list_markers"], contacts)
    initials.give_initials()
    statements = Statements("contacts")
    counted = MongoClient(infra.mongo_uri, tz_aware=True, event_listeners=[statements])[mongo_db.name]["contacts"]
    page, cursor = find_page(counted, "acct-1", ContactQuery(sort="last_name"), 3, None, initials=initials)
    # four empty names: the page and the next one's first from one initial
    assert [doc["sort_last_name"] for doc in page] == ["", "", ""]
    assert [c["filter"]["sort_last_initial"] for c in statements.commands] == [""]
    statements.commands.clear()  # then the last empty one, "#7" twice and "'t hooft" (before the digits)
    page, _ = find_page(counted, "acct-1", ContactQuery(sort="last_name"), 3, cursor, initials=initials)
    assert [doc["sort_last_name"] for doc in page] == ["", "#7", "#7"]
    assert [c["filter"]["sort_last_initial"] for c in statements.commands] == ["", "<0"]


def test_without_the_marker_a_name_sorted_page_is_one_sorted_query_and_its_cursors_stay_valid(infra, stored,
                                                                                               mongo_db):
    contacts, live = stored
    contacts.insert_one({"_id": "old", "account_id": "acct-1", "deleted": False, "version": 1, "labels": [],
                         "sort_last_name": "ancien", "sort_first_name": ""})  # stored before initials
    initials = NameInitials(mongo_db["contact_list_markers"], contacts)
    initials.begin_if_empty()  # not empty: contacts stored before initials may be anywhere
    assert not initials.everywhere()
    statements = Statements("contacts")
    counted = MongoClient(infra.mongo_uri, tz_aware=True, event_listeners=[statements])[mongo_db.name]["contacts"]
    first, cursor = find_page(counted, "acct-1", ContactQuery(sort="last_name"), 5, None, initials=initials)
    assert statements.names == ["find"] and "sort_last_initial" not in repr(statements.commands)
    assert initials.give_initials() == 1 and initials.everywhere()
    assert contacts.find_one({"_id": "old"})["sort_last_initial"] == "a"
    rest = every_page(contacts, ContactQuery(sort="last_name"), 100, initials=initials)
    page, _ = find_page(contacts, "acct-1", ContactQuery(sort="last_name"), 100, cursor, initials=initials)
    assert [d["_id"] for d in first] + [d["_id"] for d in page] == rest
    assert contacts.database["contact_list_markers"].find_one({"_id": EVERY_CONTACT_HAS_INITIALS})["since"] == "filled"


def test_a_new_deployment_reads_by_initial_from_the_start(mongo_db):
    contacts = mongo_db["contacts"]
    initials = NameInitials(mongo_db["contact_list_markers"], contacts)
    initials.begin_if_empty()
    assert initials.everywhere()
    assert find_page(contacts, "acct-1", ContactQuery(sort="-last_name"), 10, None, initials=initials) == ([], None)


def test_a_name_cursor_must_be_one_this_api_made(stored, mongo_db):
    contacts, live = stored
    initials = NameInitials(mongo_db["contact_list_markers"], contacts)
    initials.give_initials()
    made = [base64.urlsafe_b64encode(json.dumps(value).encode()).decode()
            for value in (["last_name", 5, "c001"], ["-last_name", "martin", "c001"], ["last_name", "m\ud800", "c0"],
                          ["last_name", "m\u0000", "c0"], ["last_name", "martin", "c\udfff"])]
    for bad in ("nope", *made):
        with pytest.raises(InvalidInput) as raised:
            find_page(contacts, "acct-1", ContactQuery(sort="last_name"), 10, bad, initials=initials)
        assert raised.value.errors == {"cursor": ["invalid cursor"]}
    # a cursor of the one sorted query (made before the marker, or by a scanning server) resumes the walk
    _, cursor = keyset_page(contacts, build_filter("acct-1", ContactQuery()), sort="last_name", field="sort_last_name",
                            limit=20, cursor=None, dated=False)
    page, _ = find_page(contacts, "acct-1", ContactQuery(sort="last_name"), 100, cursor, initials=initials)
    assert [d["_id"] for d in page] == in_order(live, "sort_last_name", False)[20:]


def test_the_api_lists_by_name_from_what_the_projection_wrote(client, container, monkeypatch):
    asked = []  # name_page asks the server about its initial's equality (and then walks: told it does not scan)
    monkeypatch.setattr(contact_pages, "server_scans_for", lambda collection, sample: asked.append(sample) or False)
    made = {}
    for first, last in (("Ana", "Zola"), ("Bea", "Ávila"), ("Cleo", "martin"), ("Dan", None)):
        body = {"first_name": first, **({"last_name": last} if last else {})}
        made[first] = client.post("/v1/contacts", json=body, headers=headers()).get_json()["id"]
    apply_in_bulk(container.projection, list(container.event_store.read_all()))
    assert container.projection.initials.everywhere()  # the collection was empty at start-up
    documents = {d["_id"]: d for d in container.projection.collection.find()}
    assert [documents[made[n]]["sort_last_initial"] for n in ("Ana", "Bea", "Cleo", "Dan")] == ["z", "a", "m", ""]

    def listed(sort: str) -> list[str]:
        names, cursor = [], None
        while True:
            page = client.get("/v1/contacts", query_string={"sort": sort, "limit": 1, **({"cursor": cursor} if cursor
                                                                                           else {})}, headers=headers())
            assert page.status_code == 200, page.get_json()
            names += [item["first_name"] for item in page.get_json()["items"]]
            if (cursor := page.get_json()["next_cursor"]) is None:
                return names

    assert listed("last_name") == ["Dan", "Bea", "Cleo", "Ana"]
    assert {tuple(sample) for sample in asked} == {("account_id", "sort_last_initial")}
    assert listed("-first_name") == ["Dan", "Cleo", "Bea", "Ana"]
    assert ("account_id", "sort_first_initial") in {tuple(sample) for sample in asked}


class StaleReads:
    """The contacts collection, but its `find` answers what it held earlier (what a rebuild read before the live
    consumer wrote)."""

    def __init__(self, contacts, earlier: list[dict]) -> None:
        self.contacts, self.earlier = contacts, earlier

    def find(self, *args, **kwargs):
        return iter(self.earlier)

    def __getattr__(self, name):
        return getattr(self.contacts, name)


def test_initials_given_by_the_rebuild_fix_wrong_ones_and_never_undo_a_write_made_meanwhile(stored, mongo_db):
    contacts, live = stored
    contacts.update_one({"_id": "c001"}, {"$set": {"sort_last_initial": "q"}})  # an earlier release renamed it
    contacts.update_one({"_id": "c002"}, {"$unset": {"sort_last_initial": "", "sort_first_initial": ""}})
    contacts.update_one({"_id": "c004"}, {"$set": {"sort_first_initial": "q"}})
    earlier = list(contacts.find({"deleted": False}))
    contacts.update_one({"_id": "c004"}, {"$set": {"deleted": True}})  # deleted meanwhile, its names still there
    # meanwhile, this release's consumer renames c001 (with its initials) and deletes c002 (a tombstone keeps none)
    contacts.update_one({"_id": "c001"}, {"$set": {"sort_last_name": "zola", "sort_last_initial": "z"}})
    contacts.update_one({"_id": "c002"}, {"$set": {"deleted": True}, "$unset": {"sort_last_name": "",
                                                                              "sort_first_name": ""}})
    contacts.update_one({"_id": "c005"}, {"$set": {"sort_last_initial": "q"}})  # wrong, and not touched meanwhile
    initials = NameInitials(mongo_db["contact_list_markers"], StaleReads(contacts, earlier))
    assert initials.give_initials() == 0  # the two it read wrong were written meanwhile
    assert contacts.find_one({"_id": "c001"})["sort_last_initial"] == "z"
    assert "sort_last_initial" not in contacts.find_one({"_id": "c002"})
    assert contacts.find_one({"_id": "c004"})["sort_first_initial"] == "q"  # a tombstone is not given initials
    contacts.update_one({"_id": "c006"}, {"$set": {"sort_first_initial": "q"}})  # the first name's, wrong too
    initials = NameInitials(mongo_db["contact_list_markers"], contacts)
    assert initials.give_initials() == 2
    for contact_id in ("c005", "c006"):
        mended = contacts.find_one({"_id": contact_id})
        assert {name: mended[name] for name in ("sort_first_initial", "sort_last_initial")} == initial_fields(mended)
    assert initials.give_initials() == 0
