"""Which handler takes which message: one per command, any number per event (the message bus reads these)."""
from __future__ import annotations

from crm_platform.contracts.accounts import AccountCreated
from crm_platform.contracts.contacts import ContactCreatedFact, ContactDeletedFact, ContactErasedFact, ContactsMergedFact

from workflows.domain import commands, task_commands
from workflows.domain.boards import StageRemoved
from workflows.service_layer import board_handlers, card_handlers, contact_reactions, task_handlers

COMMAND_HANDLERS = {
    commands.CreateBoard: board_handlers.create_board,
    commands.RenameBoard: board_handlers.rename_board,
    commands.AddStage: board_handlers.add_stage,
    commands.ChangeStage: board_handlers.change_stage,
    commands.ReorderStages: board_handlers.reorder_stages,
    commands.RemoveStage: board_handlers.remove_stage,
    commands.CreateCard: card_handlers.create_card,
    commands.EditCard: card_handlers.edit_card,
    commands.MoveCard: card_handlers.move_card,
    commands.WinCard: card_handlers.win_card,
    commands.LoseCard: card_handlers.lose_card,
    commands.ArchiveCard: card_handlers.archive_card,
    task_commands.ChangeWorkflowSettings: task_handlers.change_workflow_settings,
    task_commands.CreateTask: task_handlers.create_task,
    task_commands.UpdateTask: task_handlers.update_task,
    task_commands.RescheduleTask: task_handlers.reschedule_task,
    task_commands.CompleteTask: task_handlers.complete_task,
    task_commands.ReopenTask: task_handlers.reopen_task,
    task_commands.DeleteTask: task_handlers.delete_task,
}

EVENT_HANDLERS = {
    AccountCreated: [board_handlers.give_new_account_its_default_board],
    StageRemoved: [board_handlers.move_cards_off_removed_stage],
    ContactCreatedFact: [contact_reactions.note_contact],
    ContactsMergedFact: [contact_reactions.relink_merged_contacts],
    ContactDeletedFact: [contact_reactions.drop_deleted_contact],
    ContactErasedFact: [contact_reactions.erase_contact_from_cards],
}
