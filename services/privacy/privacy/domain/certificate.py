"""The certificate of a privacy request: what each service did, in a form anyone can check, with no personal data.

It names the request and account, a keyed hash of the subject (never the subject's ids or values), the dates,
each service's outcome as it replied (key ids destroyed, items erased, items retained with their legal basis and
date) and the services that did not answer. Every member is copied from a list of known fields, so that nothing
a reply carries besides them (a blob id, a stray field) reaches the certificate.

It is signed over its canonical bytes (sorted keys, compact separators, UTF-8), so a
verifier in any language rebuilds the same bytes from the JSON it received.
"""
from __future__ import annotations

import hashlib
import hmac
import json

FORMAT = "crm-erasure-certificate/1"
SIGNATURE_MEMBER = "signature"

_REPLY_FIELDS = ("outcome", "keys_destroyed", "items_erased", "item_count")  # erasure replies, export replies
_RETAINED_FIELDS = ("item", "legal_basis", "retain_until")


def build_certificate(request: dict, subject_hash: str, issued_at: str) -> dict:
    """The unsigned certificate of a request (the dict the privacy service keeps of it)."""
    return {
        "format": FORMAT,
        "request_id": request["request_id"],
        "account_id": request["account_id"],
        "type": request["type"],
        "subject_hash": subject_hash,
        "status": request["status"],
        "requested_at": request["requested_at"],
        "completed_at": request.get("completed_at"),
        "issued_at": issued_at,
        "services": [_service_outcome(service, reply)
                     for service, reply in sorted(request.get("replies", {}).items())],
        "missing_services": sorted(request.get("missing_services", [])),
        "failed_parts": sorted(request.get("failed_parts", [])),
        "verification": request.get("verification"),
        # a restriction's end, if it ended: the certificate says when edits were allowed again
        **({"lifted_at": request.get("lifted_at")} if request["type"] == "restriction" else {}),
    }


def canonical_bytes(certificate: dict) -> bytes:
    """The bytes a signature covers: the certificate without its signature, keys sorted, no spaces, UTF-8.

    TypeError or ValueError for a member JSON cannot hold exactly (an object, NaN): a certificate is plain JSON.
    """
    unsigned = {name: value for name, value in certificate.items() if name != SIGNATURE_MEMBER}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def subject_hash(secret: bytes, account_id: str, contact_ids: list[str]) -> str:
    """HMAC-SHA256 (hex) of the account and the subject's contact ids, whatever their order or repetitions.

    Keyed, so that nobody without the secret can test a guessed id against a certificate.
    """
    if not secret:
        raise ValueError("the subject hash needs a secret key")
    message = json.dumps([account_id, sorted(set(contact_ids))], separators=(",", ":"), ensure_ascii=False)
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


def keyed_key_id(secret: bytes, key_id: str) -> str:
    """A destroyed key's id as a certificate names it: its kind kept readable, the rest (which names the subject,
    e.g. `contact:<id>`) replaced by an HMAC-SHA256 (hex) under the subject-hash secret.

    `workflows-subject:contact:42` -> `workflows-subject:<hmac>`, `contact:42` -> `contact:<hmac>`; an id
    without a kind is all hashed. The holder
    of the secret can check that a given key was destroyed; nobody else learns whose it was.
    """
    if not secret:
        raise ValueError("a key id is hashed with a secret key")
    kind, separator, _ = key_id.partition(":")
    digest = hmac.new(secret, key_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{kind}:{digest}" if separator else digest


def _service_outcome(service: str, reply: dict) -> dict:
    outcome = {"service": service, "answered_at": reply.get("answered_at")}
    outcome.update({name: reply[name] for name in _REPLY_FIELDS if name in reply})
    if "retained" in reply:
        outcome["retained"] = [{name: item.get(name) for name in _RETAINED_FIELDS} for item in reply["retained"]]
    return outcome
