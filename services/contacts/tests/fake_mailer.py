"""A MessageMailer for unit tests: keeps what it was handed, as the mail outbox would (an id queued once)."""
from __future__ import annotations


class FakeMailer:
    def __init__(self) -> None:
        self.queued: dict[str, tuple] = {}

    def prepare(self, message, files):
        return (message.id, message.state.to, message.state.subject_line, message.state.marketing,
                [(file.file_name, data) for file, data in files])

    def enqueue(self, mail) -> bool:
        if mail[0] in self.queued:
            return False
        self.queued[mail[0]] = mail
        return True

    def knows(self, message_id: str) -> bool:
        return message_id in self.queued
