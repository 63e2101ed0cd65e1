"""Contacts' part in privacy requests (issue 13): a person's export, and their erasure, asked by the privacy
service through `privacy.events` (crm_platform.privacy_participation answers with the outcome).

Only the request's contact ids of the request's account count, each with its merge family. Export: one part
in the exchange store, the person's files streamed into it from the attachment blobs. Erasure: the imports whose
file or failed rows mention the person forgotten whole (import_erasure.py: they are sealed per import, not per
person), then the service's own erasure (`EraseContact`, erasure.py) of each family, safe to repeat. The keys
destroyed are the `contact:<id>` and `import:<id>` keys THIS request shredded: a person erased by an earlier
request is nothing held now, while a rerun of the same request (its reply lost) lists its keys again (the
contact's ContactErased and the import's record carry the request's event id).
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
from contacts.service_layer.import_erasure import ForgetImports, Mentions, mentions_of
from contacts.service_layer.subject_records import (
    HeldFile, HistoryOf, NotesOf, families, read_records, readable_history,
)
from contacts.service_layer.unit_of_work import UnitOfWork

# For the export's manifest (GDPR Art. 15(1)): what contacts holds of a person, why, who sees it, how long.
ABOUT = {
    "categories": ["identity and contact details (names, company, job title, code, VAT number, emails, phones, "
                   "addresses, websites)", "function and department", "labels", "custom fields",
                   "notes", "attached files and profile picture", "history of changes",
                   "e-mails sent to the person (address, subject, text, attached file names) and their delivery "
                   "status"],
    "purposes": ["managing the account's relationships with its customers, prospects and partners (CRM)"],
    "recipients": ["the account's users", "the account's billing and workflows, by contact id"],
    "retention": "until the account deletes the contact, or erases the person; uploaded import files and their "
                 "failed rows {import_retention_days} days (the deployment's import retention)",
    "source": "entered by the account's users, imported from files they uploaded, or merged from duplicates",
}


ERASURE_ROUNDS = 5  # families found again after erasing, until one finds no new contact


class ContactsPrivacyParticipant:
    """The contacts service's PrivacyParticipant."""

    def __init__(self, *, uow_factory: Callable[[], UnitOfWork], bus: MessageBus, notes_of: NotesOf,
                 attachment_ids_of: ItemsOf, history_of: HistoryOf, files: AttachmentFiles,
                 forget_imports: ForgetImports, import_retention_days: int, messages_of: ItemsOf) -> None:
        self._uow_factory = uow_factory
        self._bus = bus
        self._notes_of = notes_of
        self._attachment_ids_of = attachment_ids_of
        self._history_of = history_of
        self._messages_of = messages_of
        self._files = files
        self._forget_imports = forget_imports
        self._about = {**ABOUT, "retention": ABOUT["retention"].format(import_retention_days=import_retention_days)}

    def export(self, request: SubjectExportRequested, exchange: ExportExchange) -> ExportedPart:
        records = read_records(self._uow_factory(), request.account_id, list(request.contact_ids), self._notes_of,
                               self._attachment_ids_of, self._history_of, self._messages_of)
        if not records.contact_ids:
            return ExportedPart(None, 0)
        files = (ExportFile(held.name, held.content_type, self._content(held)) for held in records.files)
        part = exchange.write_part(request.request_id, config.SERVICE_NAME, self._about, records.data, files)
        return ExportedPart(part, records.item_count)

    def erase(self, request: ErasureRequested) -> ErasureOutcome:
        """For each family: the imports that mention the person first (their values are read from the contacts,
        readable until shredded), then the contacts. A merge of a member into a contact outside the family may land
        meanwhile: the families are found again until a round finds no new contact (ERASURE_ROUNDS at most, else no
        answer: the consumer tries the request again)."""
        uow = self._uow_factory()
        account_id = request.account_id
        request_event = request_context.current().causation_id  # the request's event id (crm_platform.event_consumer)
        handled: set[str] = set()
        destroyed: dict[str, ErasedContact] = {}
        imports: list[str] = []
        found = families(uow, account_id, list(request.contact_ids))
        for _ in range(ERASURE_ROUNDS):
            new = [family for family in found if not set(family) <= handled]
            if not new:
                return _outcome(list(destroyed.values()), list(dict.fromkeys(imports)))
            members = [contact_id for family in new for contact_id in family if contact_id not in handled]
            imports += self._forget_imports(account_id, self._mentions(uow, account_id, members), request_event)
            for family in new:
                erasure = self._bus.handle(commands.EraseContact(account_id, family[0]))
                handled.update(erasure.contact_ids)
                destroyed.update((erased.contact_id, erased) for erased in erasure.contacts
                                 if erased.contact_id not in destroyed and (
                                     erased.key_destroyed or (request_event and erased.erased_by == request_event)))
            found = families(uow, account_id, sorted(handled))
        raise ErasureNotSettled(ERASURE_ROUNDS)

    def _mentions(self, uow: UnitOfWork, account_id: str, contact_ids: list[str]) -> Mentions:
        """The addresses and numbers the contacts have, or had (their history), while they are readable."""
        details: list[dict] = []
        with uow.cipher.keys_ready([data_subject(contact_id) for contact_id in contact_ids]):
            for contact_id in contact_ids:
                with uow:
                    stored = uow.contacts.history(account_id, contact_id)
                    contact = uow.contacts.rebuilt(account_id, contact_id, stored)
                if contact is None:
                    continue  # erased already: nothing of it is readable, here or in an import's search
                details.append(contact.details)
                details += [{name: change[end]} for entry in readable_history(self._history_of, stored)
                            for name, change in entry["changes"].items() for end in ("from", "to")]
        return mentions_of([email.get("address", "") for values in details for email in values.get("emails") or []],
                           [phone.get("number", "") for values in details for phone in values.get("phones") or []])

    def _content(self, held: HeldFile) -> Iterator[bytes]:
        """The file's content, opened when the exchange comes to it, one chunk at a time."""
        _, chunks = self._files.open(held.contact_id, held.blob_id)
        yield from chunks


def _outcome(destroyed: list[ErasedContact], imports: list[str]) -> ErasureOutcome:
    """What THIS request destroyed: nothing (nobody of the account, or erased by an earlier request) is nothing
    held; an import's key is its id."""
    if not destroyed and not imports:
        return ErasureOutcome(NOTHING_HELD)
    keys = [data_subject(erased.contact_id) for erased in destroyed] + imports
    return ErasureOutcome(ERASED, keys, [], sum(1 + erased.files + erased.notes for erased in destroyed) + len(imports))


class ErasureNotSettled(RuntimeError):
    """Contacts kept joining the person's families: the erasure is not answered (the consumer tries it again)."""

    def __init__(self, rounds: int) -> None:
        super().__init__(f"new contacts still joined the families after {rounds} rounds")
