"""The unit of work: the boundary of one command (changes are saved on commit, dropped otherwise)."""
from __future__ import annotations

from crm_platform.event_store import EventStore
from crm_platform.identity_claims import IdentityClaims
from crm_platform.personal_data import PersonalDataCipher

from contacts.adapters.attachment_files import AttachmentFiles
from contacts.adapters.attachment_store import AttachmentRepository
from contacts.adapters.contact_settings_store import ContactSettingsRepository
from contacts.adapters.custom_field_store import CustomFieldSetRepository
from contacts.adapters.label_store import LabelOrderRepository, LabelRepository
from contacts.adapters.note_store import NoteRepository
from contacts.adapters.option_list_store import OptionListRepository
from contacts.adapters.saved_view_store import SavedViewRepository
from contacts.adapters.repository import ContactRepository


class UnitOfWork:
    def __init__(self, store: EventStore, cipher: PersonalDataCipher, claims: IdentityClaims,
                 files: AttachmentFiles | None = None) -> None:
        self._store = store
        self._cipher = cipher
        self.claims = claims  # not transactional: written at once, released by the handlers on failure
        self.files = files  # attachment contents; not transactional either: handlers discard them on failure
        self.contacts: ContactRepository
        self.labels: LabelRepository
        self.custom_fields: CustomFieldSetRepository
        self.notes: NoteRepository
        self.attachments: AttachmentRepository
        self.saved_views: SavedViewRepository
        self.option_lists: OptionListRepository
        self.settings: ContactSettingsRepository
        self.label_order: LabelOrderRepository

    def __enter__(self) -> "UnitOfWork":
        self.contacts = ContactRepository(self._store, self._cipher)
        self.labels = LabelRepository(self._store)
        self.custom_fields = CustomFieldSetRepository(self._store)
        self.notes = NoteRepository(self._store, self._cipher)
        self.attachments = AttachmentRepository(self._store, self._cipher)
        self.saved_views = SavedViewRepository(self._store)
        self.option_lists = OptionListRepository(self._store)
        self.settings = ContactSettingsRepository(self._store)
        self.label_order = LabelOrderRepository(self._store)
        return self

    def __exit__(self, *exc_info) -> None:
        self.contacts.seen.clear()  # uncommitted events are dropped
        self.labels.seen.clear()
        self.custom_fields.seen.clear()
        self.notes.seen.clear()
        self.attachments.seen.clear()
        self.saved_views.seen.clear()
        self.option_lists.seen.clear()
        self.settings.seen.clear()
        self.label_order.seen.clear()

    def commit(self) -> None:
        self.contacts.save_pending()
        self.labels.save_pending()
        self.custom_fields.save_pending()
        self.notes.save_pending()
        self.attachments.save_pending()
        self.saved_views.save_pending()
        self.option_lists.save_pending()
        self.settings.save_pending()
        self.label_order.save_pending()
