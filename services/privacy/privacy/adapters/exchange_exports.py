"""The exports of privacy requests in the exchange store: each request's ZIP assembled from the services' parts
(privacy.service_layer.export_assembly), shredded and discarded when it expires."""
from __future__ import annotations

from typing import Iterable

from pymongo.errors import ConnectionFailure

from crm_platform.personal_data import SubjectErased
from crm_platform.privacy_exchange import ExportExchange

from privacy.domain.requests import PrivacyRequest
from privacy.service_layer.export_assembly import assemble_export
from privacy.service_layer.ports import ExportNotAssembled


class ExchangeExports:
    def __init__(self, exchange: ExportExchange) -> None:
        self.exchange = exchange

    def assemble(self, request: PrivacyRequest, without: Iterable[str] = ()) -> tuple[str, int]:
        """The request's ZIP (blob id, length), of the parts there are (but `without`); its manifest holds no
        personal data."""
        left_out = sorted(without)
        try:
            return assemble_export(request.id, request.parts(without=left_out), self.exchange,
                                   {**summary_of(request), "failed_parts": left_out})
        except (SubjectErased, ConnectionFailure):
            raise  # the export's key shredded: final; the database away: not the parts' fault
        except Exception as exc:  # whatever in a part stops the ZIP: counted by the handler, attempts bounded
            raise ExportNotAssembled(request.id) from exc

    def unreadable_parts(self, request: PrivacyRequest) -> list[str]:
        unreadable = []
        for service, blob_id in sorted(request.parts().items()):
            if blob_id is None:
                continue
            try:
                for file in self.exchange.read_part(request.id, blob_id).get("files", []):
                    self.exchange.open_file(request.id, file["blob_id"])
            except ConnectionFailure:
                raise
            except Exception:  # noqa: BLE001 (missing, corrupt, undecodable: the part cannot go in the ZIP)
                unreadable.append(service)
        return unreadable

    def shred(self, request_id: str) -> None:
        self.exchange.shred(request_id)

    def blobs_of(self, request_id: str) -> list[str]:
        return self.exchange.blobs_of(request_id)

    def discard(self, blob_ids: Iterable[str]) -> None:
        self.exchange.discard(blob_ids)


def summary_of(request: PrivacyRequest) -> dict:
    """What the export's manifest says of the request: ids, type, dates, who answered (no personal data)."""
    return {"request_id": request.id, "account_id": request.account_id, "type": request.type,
            "contact_ids": list(request.contact_ids), "requested_at": request.requested_at,
            "services": list(request.services), "missing_services": request.unanswered}
