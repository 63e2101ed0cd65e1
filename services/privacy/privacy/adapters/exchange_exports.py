"""The exports of privacy requests in the exchange store: each request's ZIP assembled from the services' parts
(privacy.service_layer.export_assembly), shredded and discarded when it expires."""
from __future__ import annotations

from typing import Iterable

from crm_platform.privacy_exchange import ExportExchange

from privacy.domain.requests import PrivacyRequest
from privacy.service_layer.export_assembly import assemble_export


class ExchangeExports:
    def __init__(self, exchange: ExportExchange) -> None:
        self.exchange = exchange

    def assemble(self, request: PrivacyRequest) -> tuple[str, int]:
        """The request's ZIP (blob id, length), of the parts there are; its manifest holds no personal data."""
        return assemble_export(request.id, request.parts(), self.exchange, summary_of(request))

    def shred(self, request_id: str) -> None:
        self.exchange.shred(request_id)

    def discard(self, blob_ids: Iterable[str]) -> None:
        self.exchange.discard(blob_ids)


def summary_of(request: PrivacyRequest) -> dict:
    """What the export's manifest says of the request: ids, type, dates, who answered (no personal data)."""
    return {"request_id": request.id, "account_id": request.account_id, "type": request.type,
            "contact_ids": list(request.contact_ids), "requested_at": request.requested_at,
            "services": list(request.services), "missing_services": request.unanswered}
