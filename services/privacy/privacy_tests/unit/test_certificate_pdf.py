"""The certificate's PDF prints whatever kind of request it certifies: an export's or a restriction's replies
carry no keys destroyed nor retained items, a request may have no verification."""
import io
import json

import pikepdf

from privacy.adapters.certificate_pdf import certificate_pdf

SIGNATURE = {"algorithm": "Ed25519", "key_id": "k1", "value": "c2lnbmF0dXJl"}


def test_an_exports_certificate_prints_with_the_signed_json_attached():
    certificate = {"format": "crm-privacy-certificate/1", "request_id": "privacy-request:1", "account_id": "acct-1",
                   "type": "access", "subject_hash": "ab" * 32, "status": "completed",
                   "requested_at": "2026-12-03T09:00:00+00:00", "completed_at": "2026-12-03T09:00:02+00:00",
                   "issued_at": "2026-12-03T09:01:00+00:00",
                   "services": [{"service": "contacts", "answered_at": "2026-12-03T09:00:01+00:00"},
                                {"service": "billing"}],
                   "missing_services": [], "failed_parts": [], "verification": None, "signature": SIGNATURE}
    pdf = certificate_pdf(certificate, {"algorithm": "Ed25519", "key_id": "k1", "public_key": "cHVibGlj"})
    with pikepdf.open(io.BytesIO(pdf)) as document:
        attached = document.attachments["certificate.json"].get_file().read_bytes()
    assert json.loads(attached) == certificate
