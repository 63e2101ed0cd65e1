"""The contacts service's unit of work: its aggregate types, listed once, on the kernel's unit of work."""
from __future__ import annotations

from crm_platform.event_store import EventStore
from crm_platform.identity_claims import IdentityClaims
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.unit_of_work import UnitOfWork as KernelUnitOfWork

from contacts.adapters.attachment_files import AttachmentFiles
from contacts.domain.attachments import Attachment
from contacts.domain.contact_settings import ContactSettings
from contacts.domain.custom_fields import CustomFieldSet
from contacts.domain.holdings import ContactHoldings
from contacts.domain.labels import Label, LabelOrder
from contacts.domain.messages import Message
from contacts.domain.model import Contact
from contacts.domain.notes import Note
from contacts.domain.option_lists import OptionList
from contacts.domain.saved_views import SavedView


class UnitOfWork(KernelUnitOfWork):
    aggregates = {"contacts": Contact, "labels": Label, "label_order": LabelOrder, "custom_fields": CustomFieldSet,
                  "notes": Note, "attachments": Attachment, "saved_views": SavedView, "option_lists": OptionList,
                  "settings": ContactSettings, "holdings": ContactHoldings, "messages": Message}

    def __init__(self, store: EventStore, cipher: PersonalDataCipher, claims: IdentityClaims,
                 files: AttachmentFiles | None = None) -> None:
        super().__init__(store, cipher)
        self.cipher = cipher  # erasure shreds keys
        self.claims = claims  # not transactional: written at once, released by the handlers on failure
        self.files = files  # attachment contents; not transactional either: handlers discard them on failure
