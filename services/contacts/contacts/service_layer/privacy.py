"""Contacts' part in privacy requests (issue 13): a person's export, and their erasure, asked by the privacy
service through `privacy.events` (crm_platform.privacy_participation answers with the outcome).

Only the request's contact ids of the request's account count, each with its merge family. Export: one part
in the exchange store, the person's files streamed into it from the attachment blobs. Erasure: the service's
own erasure (`EraseContact`, erasure.py) of each family, safe to repeat; the keys destroyed are the contacts'
`contact:<id>`. Uploaded import files and their failed rows are sealed per import, not per person, and
forgotten after IMPORT_RETENTION_DAYS (import_retention.py): no per-person key of theirs is shredded here.
"""
from __future__ import annotations

from typing import Callable, Iterator

from crm_platform import request_context
from crm_platform.contracts.privacy import ERASED, NOTHING_HELD, ErasureRequested, SubjectExportRequested
from crm_platform.message_bus import MessageBus
from crm_platform.privacy_exchange import ExportExchange, ExportFile
from crm_platform.privacy_participation import ErasureOutcome, ExportedPart

from contacts import config
from contacts.adapters.attachment_files import AttachmentFiles
from contacts.domain import commands
from contacts.domain.events import data_subject
from contacts.service_layer.erasure import ErasedContact, ItemsOf
from contacts.service_layer.subject_records import HeldFile, HistoryOf, NotesOf, families, read_records
from contacts.service_layer.unit_of_work import UnitOfWork

# For the export's manifest (GDPR Art. 15(1)): what contacts holds of a person, why, who sees it, how long.
ABOUT = {
    "categories": ["identity and contact details (names, company, job title, code, VAT number, emails, phones, "
                   "addresses, websites)", "function and department", "labels", "custom fields",
                   "notes", "attached files and profile picture", "history of changes"],
    "purposes": ["managing the account's relationships with its customers, prospects and partners (CRM)"],
    "recipients": ["the account's users", "the account's billing and workflows, by contact id"],
    "retention": "until the account deletes the contact, or erases the person; uploaded import files and their "
                 "failed rows at most 30 days (the account's import retention)",
    "source": "entered by the account's users, imported from files they uploaded, or merged from duplicates",
}


class ContactsPrivacyParticipant:
    """The contacts service's PrivacyParticipant."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], bus: MessageBus, notes_of: NotesOf,
                 attachment_ids_of: ItemsOf, history_of: HistoryOf, files: AttachmentFiles) -> None:
        self._uow_factory = uow_factory
        self._bus = bus
        self._notes_of = notes_of
        self._attachment_ids_of = attachment_ids_of
        self._history_of = history_of
        self._files = files

    def export(self, request: SubjectExportRequested, exchange: ExportExchange) -> ExportedPart:
        records = read_records(self._uow_factory(), request.account_id, list(request.contact_ids), self._notes_of,
                               self._attachment_ids_of, self._history_of)
        if not records.contact_ids:
            return ExportedPart(None, 0)
        files = (ExportFile(held.name, held.content_type, self._content(held)) for held in records.files)
        part = exchange.write_part(request.request_id, config.SERVICE_NAME, ABOUT, records.data, files)
        return ExportedPart(part, records.item_count)

    def erase(self, request: ErasureRequested) -> ErasureOutcome:
        uow = self._uow_factory()
        request_event = request_context.current().causation_id  # the request's event id (crm_platform.event_consumer)
        destroyed: list[ErasedContact] = []
        for family in families(uow, request.account_id, list(request.contact_ids)):
            erasure = self._bus.handle(commands.EraseContact(request.account_id, family[0]))
            destroyed += [erased for erased in erasure.contacts
                          if erased.key_destroyed or (request_event and erased.erased_by == request_event)]
        if not destroyed:  # nobody of the account, or erased by an earlier request: not this one's to claim
            return ErasureOutcome(NOTHING_HELD)
        items = sum(1 + erased.files + erased.notes for erased in destroyed)
        return ErasureOutcome(ERASED, [data_subject(erased.contact_id) for erased in destroyed], [], items)

    def _content(self, held: HeldFile) -> Iterator[bytes]:
        """The file's content, opened when the exchange comes to it, one chunk at a time."""
        _, chunks = self._files.open(held.contact_id, held.blob_id)
        yield from chunks
