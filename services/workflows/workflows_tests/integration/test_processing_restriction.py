"""Cards of a contact whose processing is restricted (Art. 18) on the real MongoDB server: no card naming them
is created or edited (409 `processing-restricted`) until the restriction is lifted; other cards go on."""
from crm_platform.contracts.contacts import ContactCreatedFact
from crm_platform.openapi import documented_statuses
from crm_platform.testing.restriction_events import restriction_applied, restriction_lifted

from .conftest import headers
from .test_api import board_with_contact

PROBLEM = "/problems/processing-restricted"


def refused(response):
    return (response.status_code == 409 and response.mimetype == "application/problem+json"
            and response.get_json()["type"] == PROBLEM and response.get_json()["contact_ids"] == ["contact:1"])


def test_a_restricted_contact_gets_no_card_created_or_edited_until_lifted(client, container):
    board = board_with_contact(client, container)
    container.bus.handle(ContactCreatedFact("contact:2", "acct-1"))

    def card(contact_id, **fields):
        return client.post("/v1/cards", headers=headers(), json={"board_id": board["id"], "title": "Devis",
                                                                 "contact_id": contact_id, **fields})

    theirs, others = card("contact:1").get_json(), card("contact:2").get_json()
    handler = container.privacy_handler()
    handler.handle(restriction_applied("acct-1", ["contact:1"], ["workflows"]))
    [reply] = container.event_store.load("privacy-request:r18")
    assert (reply.event_type, reply.payload["outcome"]) == ("SubjectRestricted", "restricted")

    assert refused(card("contact:1"))
    for method, path in (("POST", "/v1/cards"), ("PATCH", f"/v1/cards/{theirs['id']}")):  # as the OpenAPI says
        assert "409" in documented_statuses(client.application, method, path), (method, path)
    assert refused(card("contact:2", other_contact_ids=["contact:1"]))
    assert refused(client.patch(f"/v1/cards/{theirs['id']}", headers=headers(), json={"revision": 1, "title": "x"}))
    assert refused(client.patch(f"/v1/cards/{others['id']}", headers=headers(),
                                json={"revision": 1, "other_contact_ids": ["contact:1"]}))
    edited = client.patch(f"/v1/cards/{others['id']}", headers=headers(), json={"revision": 1, "title": "y"})
    assert edited.status_code == 200, edited.get_json()

    handler.handle(restriction_lifted("acct-1", ["contact:1"]))
    lifted = client.patch(f"/v1/cards/{theirs['id']}", headers=headers(), json={"revision": 1, "title": "x"})
    assert lifted.status_code == 200, lifted.get_json()
