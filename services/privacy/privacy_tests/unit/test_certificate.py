"""The certificate of a privacy request: built without personal data, signed with Ed25519, verified by anyone."""
from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from privacy.adapters.signing import CertificateSigner, key_id, verify_certificate
from privacy.domain.certificate import FORMAT, build_certificate, canonical_bytes, keyed_key_id, subject_hash

SEED = bytes(range(32))
SECRET = b"s" * 32
SERVICE_ROOT = Path(__file__).resolve().parents[2]  # services/privacy, importable without an install

REQUEST = {
    "request_id": "req-1", "account_id": "acct-1", "type": "erasure", "status": "partially_completed",
    "requested_at": "2026-12-02T10:00:00+00:00", "completed_at": "2026-12-02T10:00:04+00:00",
    "contact_ids": ["contact-secret-1", "contact-secret-2"], "services": ["billing", "contacts", "workflows"],
    "missing_services": ["workflows"],
    "replies": {
        "contacts": {"request_id": "req-1", "account_id": "acct-1", "service": "contacts", "outcome": "erased",
                     "keys_destroyed": ["key-a", "key-b"], "retained": [], "items_erased": 12,
                     "completed_at": "2026-12-02T10:00:02+00:00", "answered_at": "2026-12-02T10:00:03+00:00"},
        "billing": {"service": "billing", "outcome": "retained", "keys_destroyed": [], "items_erased": 3,
                    "retained": [{"item": "invoice:inv-9", "legal_basis": "Art. 17(3)(b) GDPR; Code de commerce "
                                  "L123-22", "retain_until": "2036-12-31", "buyer": "Jeanne Martin"}],
                    "email": "jeanne@example.com", "answered_at": "2026-12-02T10:00:01+00:00"},
    },
}


@pytest.fixture
def certificate():
    return build_certificate(REQUEST, subject_hash(SECRET, "acct-1", REQUEST["contact_ids"]),
                             "2026-12-02T10:00:05+00:00")


@pytest.fixture
def signer():
    return CertificateSigner(SEED)


@pytest.fixture
def public_key(signer):
    return signer.public_key()["public_key"]


def test_the_certificate_says_what_each_service_did_and_who_did_not_answer(certificate):
    assert certificate["format"] == FORMAT
    assert (certificate["request_id"], certificate["account_id"], certificate["type"]) == ("req-1", "acct-1",
                                                                                            "erasure")
    assert certificate["status"] == "partially_completed"
    assert certificate["issued_at"] == "2026-12-02T10:00:05+00:00"
    assert certificate["missing_services"] == ["workflows"]
    assert certificate["services"] == [
        {"service": "billing", "answered_at": "2026-12-02T10:00:01+00:00", "outcome": "retained",
         "keys_destroyed": [], "items_erased": 3,
         "retained": [{"item": "invoice:inv-9", "legal_basis": "Art. 17(3)(b) GDPR; Code de commerce L123-22",
                       "retain_until": "2036-12-31"}]},
        {"service": "contacts", "answered_at": "2026-12-02T10:00:03+00:00", "outcome": "erased",
         "keys_destroyed": ["key-a", "key-b"], "retained": [], "items_erased": 12},
    ]
    assert certificate["verification"] is None


def test_the_certificate_holds_no_personal_data_nor_any_field_it_does_not_list(certificate):
    text = canonical_bytes(certificate).decode()
    for value in ("contact-secret-1", "contact-secret-2", "Jeanne Martin", "jeanne@example.com"):
        assert value not in text
    assert "contact_ids" not in text and "completed_at\":\"2026-12-02T10:00:02" not in text


def test_the_verifier_result_is_carried_when_there_is_one():
    request = {**REQUEST, "verification": "0 readable occurrences in 14 collections and 9 topics"}
    assert build_certificate(request, "h", "t")["verification"] == request["verification"]


def test_the_subject_hash_is_keyed_and_ignores_the_order_and_repetition_of_ids():
    first = subject_hash(SECRET, "acct-1", ["c2", "c1"])
    assert first == subject_hash(SECRET, "acct-1", ["c1", "c2", "c1"])
    assert len(first) == 64 and int(first, 16) >= 0
    assert first != subject_hash(b"t" * 32, "acct-1", ["c1", "c2"])
    assert first != subject_hash(SECRET, "acct-2", ["c1", "c2"])
    assert subject_hash(SECRET, "a", ["b,c"]) != subject_hash(SECRET, "a", ["b", "c"])  # no ambiguous joins
    with pytest.raises(ValueError):
        subject_hash(b"", "acct-1", ["c1"])


def test_a_destroyed_key_is_named_by_its_kind_and_a_keyed_hash_never_by_the_contact_it_sealed():
    named = keyed_key_id(b"secret", "workflows-subject:contact:louise")
    kind, digest = named.split(":")
    assert kind == "workflows-subject" and len(digest) == 64 and "louise" not in named
    assert keyed_key_id(b"secret", "contact:louise").startswith("contact:")
    assert "louise" not in keyed_key_id(b"secret", "contact:louise") + keyed_key_id(b"secret", "louise")
    assert named == keyed_key_id(b"secret", "workflows-subject:contact:louise")
    assert named != keyed_key_id(b"other", "workflows-subject:contact:louise")
    assert named != keyed_key_id(b"secret", "workflows-subject:contact:louis")
    with pytest.raises(ValueError):
        keyed_key_id(b"", "contact:42")


def test_canonical_bytes_sort_keys_drop_spaces_and_the_signature():
    assert canonical_bytes({"b": "é", "a": [1, {"d": None, "c": True}], "signature": {"value": "x"}}) == \
        '{"a":[1,{"c":true,"d":null}],"b":"é"}'.encode()
    with pytest.raises(ValueError):
        canonical_bytes({"a": float("nan")})


def test_a_signed_certificate_verifies_with_the_public_key_the_service_publishes(signer, certificate):
    published = signer.public_key()
    signed = signer.sign(certificate)
    assert published["algorithm"] == "Ed25519" and len(base64.b64decode(published["public_key"])) == 32
    assert published["key_id"] == key_id(base64.b64decode(published["public_key"])) and len(published["key_id"]) == 16
    assert signed["signature"]["key_id"] == published["key_id"] and signed["signature"]["algorithm"] == "Ed25519"
    assert verify_certificate(signed, published["public_key"])
    assert verify_certificate(json.loads(json.dumps(signed)), published["public_key"])  # as a client reads it
    assert "signature" not in certificate  # the unsigned certificate is left as it was


def _every_change(signed: dict):
    """The signed certificate with one member changed, added or removed, at every depth."""
    def paths(value, path=()):
        yield path
        if isinstance(value, dict):
            for name, member in value.items():
                yield from paths(member, path + (name,))
        elif isinstance(value, list):
            for index, member in enumerate(value):
                yield from paths(member, path + (index,))

    for path in list(paths(signed))[1:]:
        changed = copy.deepcopy(signed)
        parent = changed
        for step in path[:-1]:
            parent = parent[step]
        value = parent[path[-1]]
        parent[path[-1]] = value + "x" if isinstance(value, str) else (value + 1 if isinstance(value, int)
                                                                      and not isinstance(value, bool) else "x")
        yield path, changed
        removed = copy.deepcopy(signed)
        parent = removed
        for step in path[:-1]:
            parent = parent[step]
        del parent[path[-1]]
        yield path + ("removed",), removed
    yield ("added",), {**signed, "note": "added"}


def test_any_change_of_any_member_fails_verification(signer, certificate, public_key):
    signed = signer.sign(certificate)
    changes = list(_every_change(signed))
    assert len(changes) > 40
    for path, changed in changes:
        assert not verify_certificate(changed, public_key), path


def test_another_key_or_a_missing_or_malformed_signature_fails_without_raising(signer, certificate, public_key):
    signed = signer.sign(certificate)
    other_key = CertificateSigner(os.urandom(32)).public_key()["public_key"]
    assert not verify_certificate(signed, other_key)
    assert not verify_certificate(CertificateSigner(os.urandom(32)).sign(certificate), public_key)
    assert not verify_certificate(certificate, public_key)  # never signed
    malformed = [None, "sig", [], {}, {**signed["signature"], "value": "not base64!"},
                 {**signed["signature"], "value": 12}, {**signed["signature"], "value": ""},
                 {**signed["signature"], "algorithm": "RS256"}, {**signed["signature"], "extra": 1},
                 {"algorithm": "Ed25519", "value": signed["signature"]["value"]}]
    for signature in malformed:
        assert not verify_certificate({**signed, "signature": signature}, public_key), signature
    for key in ("", "not base64!", base64.b64encode(b"short").decode(), None, 7):
        assert not verify_certificate(signed, key), key
    for not_a_certificate in (None, "text", [], 3, {"signature": signed["signature"], "x": float("nan")}):
        assert not verify_certificate(not_a_certificate, public_key)


def test_a_signer_needs_a_32_byte_seed_and_signs_the_same_way_every_time(certificate):
    with pytest.raises(ValueError):
        CertificateSigner(b"short")
    assert CertificateSigner(SEED).sign(certificate) == CertificateSigner(SEED).sign(certificate)


# --- the verify CLI, run as a verifier would -----------------------------------------------------------------

def _verify(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SERVICE_ROOT),
                                                                     os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "privacy.entrypoints.verify", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def _write(tmp_path: Path, certificate) -> str:
    path = tmp_path / "certificate.json"
    path.write_text(json.dumps(certificate, indent=2), encoding="utf-8")
    return str(path)


def test_the_cli_says_valid_for_a_signed_certificate_and_invalid_for_a_changed_one(tmp_path, signer, certificate,
                                                                                   public_key):
    signed = signer.sign(certificate)
    valid = _verify(_write(tmp_path, signed), "--public-key", public_key)
    assert (valid.returncode, valid.stdout.strip()) == (0, "valid")
    changed = _verify(_write(tmp_path, {**signed, "status": "completed"}), "--public-key", public_key)
    assert (changed.returncode, changed.stdout.strip()) == (1, "INVALID")
    not_json = tmp_path / "garbage.json"
    not_json.write_text("{not json")
    for args in ([str(tmp_path / "missing.json"), "--public-key", public_key],
                 [str(not_json), "--public-key", public_key],
                 [_write(tmp_path, signed)],  # no key
                 [_write(tmp_path, signed), "--public-key", public_key, "--public-key-url", "http://x"]):
        failed = _verify(*args)
        assert failed.returncode == 2, (args, failed.stdout, failed.stderr)
        assert failed.stdout == ""


class _PublicKeyServer(BaseHTTPRequestHandler):
    body: bytes = b""
    seen_authorization: list = []

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        type(self).seen_authorization.append(self.headers.get("Authorization"))
        status = 200 if self.path == "/v1/privacy/public-key" else 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body if status == 200 else b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def key_server(signer):
    _PublicKeyServer.body = json.dumps(signer.public_key()).encode()
    _PublicKeyServer.seen_authorization = []
    server = HTTPServer(("127.0.0.1", 0), _PublicKeyServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_cli_fetches_the_public_key_with_the_api_key(tmp_path, signer, certificate, key_server):
    path = _write(tmp_path, signer.sign(certificate))
    valid = _verify(path, "--public-key-url", f"{key_server}/v1/privacy/public-key", "--api-key", "k-123")
    assert (valid.returncode, valid.stdout.strip()) == (0, "valid"), valid.stderr
    anonymous = _verify(path, "--public-key-url", f"{key_server}/v1/privacy/public-key")
    assert anonymous.returncode == 0, anonymous.stderr
    assert _PublicKeyServer.seen_authorization == ["Bearer k-123", None]
    not_found = _verify(path, "--public-key-url", f"{key_server}/elsewhere")
    assert not_found.returncode == 2 and "404" in not_found.stderr
    for url in ("file:///etc/passwd", "http://127.0.0.1:1/v1/privacy/public-key"):
        assert _verify(path, "--public-key-url", url).returncode == 2, url
