"""The PDFs of final (issued) billing documents, rendered once and kept, so that the same bytes are served every time.

Each PDF is a blob (crm_platform.blobs) sealed with the key of the document's personal data (`billing-document:<id>`,
a credit note's: its invoice's): shredding that key makes the PDF unreadable wherever its chunks lie. A record in
`document_pdfs` (`_id` = "<account>:<document id>:<language>[:void][:restricted]": a client may choose a document's
id, and two accounts the same one; read and written by `_id` only) names the blob. The form a document prints in
(voided, kept for the law only) is part of the id: once it changes, what was kept before is never served again, and
`discard_superseded` deletes it.
The blob is written first, its record last; two first requests racing both render, the first record written wins and
the loser deletes its blob and serves the winner's, so every caller gets the same bytes.
A request that rendered the document before its form changed (restricted by an erasure, voided) and writes its record
after `discard_superseded` ran would leave a PDF in the old form (with the e-mails and notes a restriction removes)
stored until retention ends: once its record is written, the document's form is read again (`form_now`) and the
record deleted if it no longer matches. Insert, then check: a change committed after the check is followed by a
`discard_superseded` that finds the record (no multi-document transaction needed).
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Callable, Iterable

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, PyMongoError

from crm_platform.blobs import BlobStore
from crm_platform.mongo import find_by_ids
from crm_platform.personal_data import PersonalDataCipher

from billing.adapters.document_labels import LANGUAGES
from billing.domain.printed_documents import PrintedDocument

log = logging.getLogger(__name__)
PDF = "application/pdf"
# (account id, document) -> (restricted, void) as the document prints now; None once it is gone
FormNow = Callable[[str, PrintedDocument], "tuple[bool, bool] | None"]


class KeptPdfs:
    def __init__(self, records: Collection, blobs: BlobStore, cipher: PersonalDataCipher,
                 form_now: FormNow | None = None) -> None:
        self.records = records
        self._blobs = blobs
        self._cipher = cipher
        self._form_now = form_now  # None: no check after writing (tests of other things)

    def kept(self, account_id: str, document: PrintedDocument, lang: str, render: Callable[[], bytes]) -> bytes:
        """The document's PDF in `lang` as kept; rendered by `render` and kept the first time."""
        record_id = _record_id(account_id, document.document_id, lang, document.restricted, document.void)
        record = self.records.find_one({"_id": record_id})
        if record is not None:
            return self._read(record)
        pdf = render()
        info = self._blobs.write(pdf, PDF, self._cipher.sealing_key(document.subject_key))
        try:
            self.records.insert_one({"_id": record_id, "account_id": account_id, "blob_id": info.blob_id,
                                     "subject_key": document.subject_key, "created_at": datetime.now(timezone.utc)})
        except DuplicateKeyError:  # another request kept it first: theirs is the one served
            self._blobs.delete(info.blob_id)
            return self._read(self.records.find_one({"_id": record_id}))
        if self._form_now is not None and self._form_now(account_id, document) != (document.restricted, document.void):
            self._delete([record_id])  # superseded while it rendered: served to this request, kept for none
        return pdf

    def stored(self, account_id: str, document_id: str, lang: str, restricted: bool = False,
               void: bool = False) -> bytes | None:
        """The kept PDF, if there is one (the privacy export's)."""
        record = self.records.find_one({"_id": _record_id(account_id, document_id, lang, restricted, void)})
        return None if record is None else self._read(record)

    def discard(self, account_id: str, document_ids: Iterable[str]) -> None:
        """Delete the kept PDFs of these documents, every language and form: the record first, then the blob (a
        blob left by a failure is unreadable once the document's key is shredded, and reachable by no record)."""
        self._delete([record_id for document_id in document_ids for record_id in _record_ids(account_id, document_id)])

    def discard_superseded(self, account_id: str, *documents: PrintedDocument) -> None:
        """Delete the kept PDFs of these documents in a form they no longer print in (not voided yet, not restricted
        yet), every language; those of their form now are kept."""
        now = {_record_id(account_id, document.document_id, lang, document.restricted, document.void)
               for document in documents for lang in LANGUAGES}
        self._delete([record_id for document in documents
                      for record_id in _record_ids(account_id, document.document_id, voided=document.void)
                      if record_id not in now])

    def _delete(self, record_ids: list[str]) -> None:
        """Those of these records that exist deleted, with their blobs. Which exist is read first, by `_id`
        equalities on a few threads (find_by_ids): most documents have no PDF kept in most of their 8 possible
        forms, and a delete of each tried one after the other took 430 statements for a person's erasure
        (issue 13). A record kept after that read is the writer's to check (`kept`: its form read again)."""
        for record_id in (record["_id"] for record in find_by_ids(self.records, record_ids, {"_id": 1})):
            record = self.records.find_one_and_delete({"_id": record_id})
            if record is not None:
                try:
                    self._blobs.delete(record["blob_id"])
                except PyMongoError:
                    log.warning("could not delete a kept PDF's blob", extra={"blob_id": record["blob_id"]})

    def _read(self, record: dict) -> bytes:
        _, contents = self._blobs.read(record["blob_id"], self._cipher.opening_key(record["subject_key"]))
        return b"".join(contents)


def _record_id(account_id: str, document_id: str, lang: str, restricted: bool, void: bool = False) -> str:
    record_id = f"{account_id}:{document_id}:{lang}" + (":void" if void else "")
    return f"{record_id}:restricted" if restricted else record_id


def _record_ids(account_id: str, document_id: str, voided: bool = True) -> list[str]:
    """Every id a PDF of the document may be kept under: each language, each form; not the void forms of a document
    not `voided` (void is final: one not void now never was)."""
    return [_record_id(account_id, document_id, lang, restricted, void)
            for lang in LANGUAGES for restricted in (False, True) for void in ((False, True) if voided else (False,))]
