"""Fakes of the privacy ports for unit tests: a person's documents found by scanning the in-memory event store
(events name their contact in clear, as the read models list it), and an export exchange that keeps parts."""
from __future__ import annotations

from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from billing.domain.number_series import GaplessNumberSeries
from billing.service_layer import dispatch
from billing.service_layer.privacy import BillingPrivacyParticipant, PersonDocuments
from billing.service_layer.unit_of_work import UnitOfWork

from .fakes import FakeCustomers, InMemoryReservationLedger


class ScannedPersonDocuments:
    """What the read models would list (adapters/person_documents.py), read off the events themselves."""

    def __init__(self, store: InMemoryEventStore, customers: FakeCustomers) -> None:
        self._store = store
        self._customers = customers

    def family(self, account_id: str, contact_ids: list[str]) -> list[str]:
        family = list(contact_ids)
        for (account, merged), into in self._customers.merged_into.items():
            if account == account_id and into in family and merged not in family:
                family.append(merged)
        return family

    def documents_of(self, account_id: str, contact_ids: list[str], known=frozenset()) -> PersonDocuments:
        ids: dict[str, list[str]] = {"Invoice": [], "Quote": [], "RecurringInvoice": []}
        notes: dict[str, list[str]] = {}
        for envelope in self._store.all_events:
            if envelope.account_id != account_id:
                continue
            listed = ids.get(envelope.aggregate_type)
            if listed is not None and envelope.payload.get("contact_id") in contact_ids and \
                    envelope.aggregate_id not in listed:
                listed.append(envelope.aggregate_id)
            if envelope.aggregate_type == "CreditNote":
                of_invoice = notes.setdefault(envelope.payload["invoice_id"], [])
                if envelope.aggregate_id not in of_invoice:
                    of_invoice.append(envelope.aggregate_id)
        notes_of = {invoice_id: notes[invoice_id] for invoice_id in ids["Invoice"] if invoice_id in notes}
        return PersonDocuments(list(contact_ids), ids["Invoice"], notes_of, ids["Quote"], ids["RecurringInvoice"])


    def forget_contacts(self, account_id: str, contact_ids: list[str]) -> None:
        for contact_id in contact_ids:
            if (account_id, contact_id) in self._customers.customers:
                self._customers.put(account_id, contact_id, {}, deleted=True)


class KeptParts:
    """ExportExchange's `write_part`, keeping what each service wrote."""

    def __init__(self) -> None:
        self.parts: dict[str, dict] = {}

    def write_part(self, request_id: str, service: str, about: dict, data: dict, files=()) -> str:
        blob_id = f"part-{len(self.parts) + 1}"
        self.parts[blob_id] = {"request_id": request_id, "service": service, "about": about, "data": data,
                               "files": list(files)}
        return blob_id


class BillingOnFakes:
    """Billing's own unit of work and handlers on the in-memory store, keys, numbers and customers."""

    def __init__(self, clock) -> None:
        self.store, self.cipher = InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore())
        self.series, self.customers = GaplessNumberSeries(InMemoryReservationLedger()), FakeCustomers()
        self.bus = MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS,
                                    {"uow": Fresh(self.unit_of_work), "clock": clock})

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.store, self.cipher, self.series, self.customers)

    def participant(self, clock) -> BillingPrivacyParticipant:
        return BillingPrivacyParticipant(self.unit_of_work, ScannedPersonDocuments(self.store, self.customers),
                                         self.cipher, clock)

    def expired_retentions(self, day):
        """What the invoices read model answers the retention job: restricted invoices retained until before `day`,
        their retention not ended yet."""
        found = []
        for invoice_id in dict.fromkeys(e.aggregate_id for e in self.store.all_events if e.aggregate_type == "Invoice"):
            history = self.store.load(invoice_id)
            until = [e.payload["retain_until"] for e in history if e.event_type == "InvoiceProcessingRestricted"]
            if until and until[-1] < day.isoformat() and history[-1].event_type != "InvoiceRetentionEnded":
                found.append((history[0].account_id, invoice_id))
        return found
