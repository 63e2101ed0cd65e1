"""A customer whose processing is restricted (Art. 18) on the real MongoDB server: no draft invoice or quote is
created or edited for them (409 `processing-restricted`) until the restriction is lifted; others go on."""
import pytest

from crm_platform.openapi import documented_statuses
from crm_platform.testing.restriction_events import restriction_applied, restriction_lifted

from ..contact_events import LOUISE, ContactEvents
from .conftest import headers
from .test_invoices_api import LINE

PROBLEM = "/problems/processing-restricted"


@pytest.fixture
def customers(container):
    events = ContactEvents(container.cipher)
    for contact_id in ("contact:louise", "contact:paul"):
        container.apply_to_customers(events.created(contact_id, LOUISE))
    return "contact:louise", "contact:paul"


def refused(response):
    return (response.status_code == 409 and response.mimetype == "application/problem+json"
            and response.get_json()["type"] == PROBLEM and response.get_json()["contact_ids"] == ["contact:louise"])


@pytest.mark.parametrize("documents", ["invoices", "quotes"])
def test_a_restricted_customer_gets_no_draft_created_or_edited_until_lifted(client, container, customers,
                                                                            documents):
    louise, paul = customers
    earlier = client.post(f"/v1/{documents}", headers=headers(), json={"contact_id": louise, "lines": [LINE]})
    assert earlier.status_code == 201, earlier.get_json()
    handler = container.privacy_handler()
    handler.handle(restriction_applied("acct-1", [louise], ["billing"]))
    [reply] = container.event_store.load("privacy-request:r18")
    assert (reply.event_type, reply.payload["outcome"]) == ("SubjectRestricted", "restricted")

    draft = f"/v1/{documents}/{earlier.get_json()['id']}"
    assert refused(client.post(f"/v1/{documents}", headers=headers(), json={"contact_id": louise, "lines": [LINE]}))
    assert refused(client.patch(draft, headers=headers(), json={"notes": "x"}))
    for method, path in (("POST", f"/v1/{documents}"), ("PATCH", draft)):  # and the OpenAPI document says so
        assert "409" in documented_statuses(client.application, method, path), (method, path)
    other = client.post(f"/v1/{documents}", headers=headers(), json={"contact_id": paul, "lines": [LINE]})
    assert other.status_code == 201
    moved_to = client.patch(f"/v1/{documents}/{other.get_json()['id']}", headers=headers(),
                            json={"contact_id": louise})
    assert refused(moved_to)  # nor is a document of someone else handed to them

    handler.handle(restriction_lifted("acct-1", [louise]))
    assert client.patch(draft, headers=headers(), json={"notes": "x"}).status_code == 200


def test_every_operation_refusing_a_restricted_customer_documents_the_409(client):
    for method, path in (("POST", "/v1/invoices"), ("PATCH", "/v1/invoices/i-1"), ("POST", "/v1/quotes"),
                         ("PATCH", "/v1/quotes/q-1"), ("POST", "/v1/quotes/q-1/convert"),
                         ("POST", "/v1/recurring-invoices"), ("PATCH", "/v1/recurring-invoices/r-1")):
        assert "409" in documented_statuses(client.application, method, path), (method, path)
