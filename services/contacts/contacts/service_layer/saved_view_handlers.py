"""Handlers of the saved view commands."""
from __future__ import annotations

from contacts.domain import commands
from contacts.domain.saved_views import SavedView
from contacts.service_layer.unit_of_work import UnitOfWork


def create_saved_view(cmd: commands.CreateSavedView, uow: UnitOfWork) -> SavedView:
    with uow:
        view = SavedView.create(cmd.account_id, cmd.name, cmd.query)
        uow.saved_views.add(view)
        uow.commit()
    return view


def change_saved_view(cmd: commands.ChangeSavedView, uow: UnitOfWork) -> SavedView:
    with uow:
        view = uow.saved_views.get(cmd.account_id, cmd.view_id)
        view.change(cmd.name, cmd.query)
        uow.commit()
    return view


def delete_saved_view(cmd: commands.DeleteSavedView, uow: UnitOfWork) -> None:
    with uow:
        uow.saved_views.get(cmd.account_id, cmd.view_id).delete()
        uow.commit()


def saved_view_query(account_id: str, view_id: str, uow: UnitOfWork) -> dict:
    """The query parameters a live view of this account keeps (SavedViewNotFound otherwise)."""
    with uow:
        return dict(uow.saved_views.get(account_id, view_id).query)
