"""The account's workflows settings: its time zone (tasks' days and reminders) and where task reminders go.

One small aggregate per account (`workflow-settings:<account>`). The notification address is personal data of
the account's user: sealed under the account's subject key (`account:<account_id>`), so shredding that key
leaves the account on the defaults, without an address.
"""
from __future__ import annotations

from dataclasses import dataclass

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.errors import StaleRevision

from workflows.domain.reminders import time_zone as checked_time_zone

DEFAULT_TIME_ZONE = "Europe/Paris"
ACCOUNT_SUBJECT = "account:{account_id}"


def settings_id(account_id: str) -> str:
    return f"workflow-settings:{account_id}"


@dataclass(frozen=True)
class WorkflowSettingsChanged(DomainEvent):
    """The account's whole workflows settings after the change."""

    account_id: str
    time_zone: str
    notification_email: str | None = None

    personal_fields = ("notification_email",)
    data_subject = ACCOUNT_SUBJECT


class WorkflowSettings(Aggregate):
    aggregate_type = "WorkflowSettings"
    event_classes = (WorkflowSettingsChanged,)
    latest_event_is_state = True

    def __init__(self, account_id: str) -> None:
        super().__init__(settings_id(account_id), account_id)
        self.time_zone = DEFAULT_TIME_ZONE
        self.notification_email: str | None = None

    @classmethod
    def blank(cls, aggregate_id: str, account_id: str) -> "WorkflowSettings":
        return cls(account_id)

    def change(self, revision: int | None, time_zone: str, notification_email: str | None) -> None:
        """Replace the settings (a PUT); `revision`, when given, must be the one read (else 409)."""
        if revision is not None and revision != self.revision:
            raise StaleRevision(f"the workflows settings are at revision {self.revision}, the change was based on "
                                f"{revision}", current_revision=self.revision)
        checked_time_zone(time_zone)
        if (time_zone, notification_email) != (self.time_zone, self.notification_email):
            self._record(WorkflowSettingsChanged(self.account_id, time_zone, notification_email))

    def _apply(self, event: WorkflowSettingsChanged) -> None:
        self.time_zone, self.notification_email = event.time_zone, event.notification_email
