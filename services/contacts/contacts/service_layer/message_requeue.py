"""The worker's sweep for messages the mail outbox never got.

The API records a message, then hands its mail to the outbox: two writes, as there are no multi-document
transactions. A process stopped in between (or an outage on the second write) leaves a message queued that
no mail will ever finish. The sweep finds messages the read model shows queued for a while and hands each
over again when the outbox does not hold its mail (RequeueMessage; the outbox keys mails by message id, so
a race with the API sends the mail once). A message whose handing over fails (but for an outage, which ends
the round) is logged and passed over, so that it does not hold up the ones after it; the next round tries it again.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Callable

from crm_platform.event_consumer import described_error
from crm_platform.liveness import still_working
from crm_platform.message_bus import MessageBus
from crm_platform.outages import is_transient
from crm_platform.worker_runtime import Loop, every

from contacts.domain import commands

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 60.0
QUEUED_FOR = timedelta(minutes=2)  # far longer than between the API's two writes

QueuedBefore = Callable[[datetime], list[tuple[str, str, str]]]  # views.queued_messages_before


def requeue_lost_messages(bus: MessageBus, queued_before: QueuedBefore, now: datetime | None = None) -> int:
    """Hand over again the messages queued before QUEUED_FOR ago whose mail the outbox lacks; how many."""
    handed = 0
    for account_id, contact_id, message_id in queued_before((now or datetime.now(timezone.utc)) - QUEUED_FOR):
        try:
            handed += bool(bus.handle(commands.RequeueMessage(account_id, contact_id, message_id)))
        except Exception as exc:  # the message's own failure: logged, the others handed over all the same
            if is_transient(exc):
                raise
            log.warning("message not handed over again", extra={"message_id": message_id,
                                                                 "error": described_error(exc)})
        still_working()
    return handed


def requeue_loop(bus: MessageBus, queued_before: QueuedBefore, every_s: float = SWEEP_EVERY_S) -> Loop:
    return every(every_s, lambda: requeue_lost_messages(bus, queued_before), "re-queueing lost messages")
