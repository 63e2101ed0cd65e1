"""What every billing document mailed shares (invoice, quote, credit note): its sends, recorded by events of its own.

One path for every kind: an aggregate mixes `MailedDocument` in, names its `mail_kind` and its three send events
(`send_events`: requested, sent, failed; each kind's own published names on the fields of domain/send_events.py,
with its id field and `account_id`, and those of `send_event_fields`), says in
`check_sendable` when it may be mailed, and hands its events to `_apply_send`. Who receives it and what the mail says
is domain/document_mail.py's.
"""
from __future__ import annotations

from typing import ClassVar

from crm_platform.mail.message import UNDELIVERABLE

from billing.domain.document_mail import FAILED, SENT, DocumentSend


class MailedDocument:
    """Mixin of an Aggregate with `contact_id` and a `sends` dict (send id -> DocumentSend) it starts empty."""

    mail_kind: ClassVar[str]  # invoice, quote, credit_note: the mail ids and the outcome's reference name it
    send_events: ClassVar[tuple[type, type, type]]  # (requested, sent, failed)
    # mailing it meets a legal obligation (an invoice, a credit note): it is mailed even while its contact restricted
    # processing (Art. 18); a quote is commercial, and is not
    legal_obligation: ClassVar[bool] = True
    sends: dict[str, DocumentSend]

    def check_sendable(self) -> None:
        """DocumentNotSendable (or the kind's own refusal) unless the document may be mailed now."""
        raise NotImplementedError

    def send_event_fields(self) -> dict:
        """The fields of its own kind its send events take besides the shared ones and its id and account."""
        return {}

    def _send_event(self, event_class: type, **fields):
        return event_class(**{event_class.aggregate_id_field: self.id}, account_id=self.account_id, **fields,
                           **self.send_event_fields())

    def request_send(self, send_id: str, lang: str, to: tuple[str, ...], subject: str, message: str,
                     requested_at: str) -> DocumentSend:
        """Record a send of the document (once per send id: a retry records nothing more)."""
        if self.deleted:
            raise self.not_found(self.id)
        if send_id in self.sends:
            return self.sends[send_id]
        self.check_sendable()
        requested, _, _ = self.send_events
        self._record(self._send_event(requested, contact_id=self.contact_id, send_id=send_id, lang=lang,
                                      recipients=len(to), requested_at=requested_at, to=list(to),
                                      mail_subject=subject, mail_text=message))
        return self.sends[send_id]

    def record_delivery(self, send_id: str, recipient: int, status: str, reason: str | None, attempts: int,
                        at: str) -> bool:
        """Record what became of one recipient's mail; False (nothing recorded) if known already or unknown."""
        send = self.sends.get(send_id)
        if self.deleted or send is None or not send.awaits(recipient):
            return False
        _, sent, failed = self.send_events
        if status == SENT:
            self._record(self._send_event(sent, send_id=send_id, recipient=recipient, attempts=attempts, sent_at=at))
        else:
            # a failure always comes with crm_platform.mail's reason; without one it did not go, as contacts says
            self._record(self._send_event(failed, send_id=send_id, recipient=recipient,
                                          reason=reason or UNDELIVERABLE, attempts=attempts, failed_at=at))
        return True

    def _apply_send(self, event) -> bool:
        """Apply one of the send events; False for any other event."""
        requested, sent, failed = self.send_events
        if isinstance(event, requested):
            self.sends[event.send_id] = DocumentSend(event.send_id, event.lang, event.recipients, event.requested_at,
                                                     to=tuple(event.to), subject=event.mail_subject)
        elif isinstance(event, sent):
            self.sends[event.send_id].outcomes[event.recipient] = (SENT, None, event.sent_at)
        elif isinstance(event, failed):
            self.sends[event.send_id].outcomes[event.recipient] = (FAILED, event.reason, event.failed_at)
        else:
            return False
        return True
