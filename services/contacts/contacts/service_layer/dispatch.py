"""Which handler takes which message: one per command, any number per event (the message bus reads these)."""
from __future__ import annotations

from crm_platform.contracts.accounts import AccountCreated

from contacts.domain import commands
from contacts.domain.custom_fields import CustomFieldRemoved
from contacts.domain.labels import LabelDeleted
from contacts.domain.option_lists import OptionRemoved
from contacts.service_layer import (
    attachment_handlers,
    custom_field_handlers,
    erasure,
    handlers,
    import_handlers,
    label_handlers,
    merge_handlers,
    message_handlers,
    note_handlers,
    option_handlers,
    saved_view_handlers,
)

COMMAND_HANDLERS = {
    commands.CreateContact: handlers.create_contact,
    commands.UpdateContact: handlers.update_contact,
    commands.DeleteContact: handlers.delete_contact,
    commands.MergeContacts: merge_handlers.merge_contacts,
    commands.EraseContact: erasure.erase_contact,
    commands.SetPhoneRegion: handlers.set_phone_region,
    commands.CreateLabel: label_handlers.create_label,
    commands.FindOrCreateLabel: label_handlers.find_or_create_label,
    commands.RenameLabel: label_handlers.rename_label,
    commands.DeleteLabel: label_handlers.delete_label,
    commands.AssignLabel: label_handlers.assign_label,
    commands.UnassignLabel: label_handlers.unassign_label,
    commands.ReorderLabels: label_handlers.reorder_labels,
    commands.AddCustomField: custom_field_handlers.add_custom_field,
    commands.RenameCustomField: custom_field_handlers.rename_custom_field,
    commands.RemoveCustomField: custom_field_handlers.remove_custom_field,
    commands.AddOption: option_handlers.add_option,
    commands.RenameOption: option_handlers.rename_option,
    commands.ReorderOptions: option_handlers.reorder_options,
    commands.RemoveOption: option_handlers.remove_option,
    commands.AddNote: note_handlers.add_note,
    commands.EditNote: note_handlers.edit_note,
    commands.DeleteNote: note_handlers.delete_note,
    commands.CreateSavedView: saved_view_handlers.create_saved_view,
    commands.ChangeSavedView: saved_view_handlers.change_saved_view,
    commands.DeleteSavedView: saved_view_handlers.delete_saved_view,
    commands.AddAttachment: attachment_handlers.add_attachment,
    commands.DeleteAttachment: attachment_handlers.delete_attachment,
    commands.SetProfilePicture: attachment_handlers.set_profile_picture,
    commands.DeleteProfilePicture: attachment_handlers.delete_profile_picture,
    commands.StartImport: import_handlers.start_import,
    commands.SendMessage: message_handlers.send_message,
    commands.RecordMessageOutcome: message_handlers.record_message_outcome,
    commands.RequeueMessage: message_handlers.requeue_message,
}

# Clean-ups after a removal (from contacts.events) and an account's set-up (from accounts.events).
EVENT_HANDLERS = {
    LabelDeleted: [label_handlers.remove_deleted_label],
    CustomFieldRemoved: [custom_field_handlers.remove_values_of_removed_field],
    OptionRemoved: [option_handlers.take_removed_option_off_contacts],
    AccountCreated: [label_handlers.give_new_account_its_labels],
}
