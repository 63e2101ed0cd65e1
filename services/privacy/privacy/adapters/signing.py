"""Ed25519 signatures of privacy certificates (issue 13), with `cryptography`.

Ed25519 because its signatures are deterministic, small, and checked with nothing but the 32-byte public key,
which the privacy service serves for anyone to verify a certificate offline.
"""
from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from privacy.domain.certificate import SIGNATURE_MEMBER, canonical_bytes

ALGORITHM = "Ed25519"
SEED_BYTES = 32
_SIGNATURE_FIELDS = {"algorithm", "key_id", "value"}


class CertificateSigner:
    """Signs certificates with one private key, made from the 32-byte seed of the setting PRIVACY_SIGNING_KEY."""

    def __init__(self, private_key_seed: bytes) -> None:
        if len(private_key_seed) != SEED_BYTES:
            raise ValueError(f"an Ed25519 private key seed is {SEED_BYTES} bytes, not {len(private_key_seed)}")
        self._key = Ed25519PrivateKey.from_private_bytes(private_key_seed)
        self._public_raw = _raw(self._key.public_key())

    def sign(self, certificate: dict) -> dict:
        """The certificate with its `signature` member (any signature it had is replaced)."""
        value = self._key.sign(canonical_bytes(certificate))
        return {**certificate, SIGNATURE_MEMBER: {"algorithm": ALGORITHM, "key_id": key_id(self._public_raw),
                                                  "value": base64.b64encode(value).decode("ascii")}}

    def public_key(self) -> dict:
        """What the service publishes for verifiers."""
        return {"algorithm": ALGORITHM, "key_id": key_id(self._public_raw),
                "public_key": base64.b64encode(self._public_raw).decode("ascii")}


def verify_certificate(certificate: dict, public_key_b64: str) -> bool:
    """Whether the certificate is exactly what the holder of this public key signed. False, never an error, for
    anything else: a changed member, another key, a missing or malformed signature or key."""
    try:
        public_raw = base64.b64decode(public_key_b64, validate=True)
        signature = certificate[SIGNATURE_MEMBER]
        if (not isinstance(signature, dict) or set(signature) != _SIGNATURE_FIELDS
                or signature["algorithm"] != ALGORITHM or signature["key_id"] != key_id(public_raw)):
            return False
        value = base64.b64decode(signature["value"], validate=True)
        Ed25519PublicKey.from_public_bytes(public_raw).verify(value, canonical_bytes(certificate))
        return True
    except (InvalidSignature, KeyError, TypeError, ValueError, binascii.Error, RecursionError):
        return False


def key_id(public_raw: bytes) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key: which key signed, at a glance."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
