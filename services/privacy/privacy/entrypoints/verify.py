"""Check a privacy certificate's signature:

    python -m privacy.entrypoints.verify CERT.json --public-key B64
    python -m privacy.entrypoints.verify CERT.json --public-key-url https://crm.example/v1/privacy/public-key \
        [--api-key KEY]

Prints "valid" (exit 0) or "INVALID" (exit 1); exit 2 when the certificate or the key cannot be read.
"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

from privacy.adapters.signing import verify_certificate

VALID, INVALID, UNUSABLE = 0, 1, 2
FETCH_TIMEOUT_SECONDS = 10


class Unusable(Exception):
    """The certificate or the public key could not be read: nothing was verified."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m privacy.entrypoints.verify",
                                     description="Check the Ed25519 signature of a privacy certificate.")
    parser.add_argument("certificate", help="the certificate's JSON file")
    key = parser.add_mutually_exclusive_group(required=True)
    key.add_argument("--public-key", help="the public key, base64 of its 32 raw bytes")
    key.add_argument("--public-key-url", help="where the privacy service serves its public key (JSON)")
    parser.add_argument("--api-key", help="API key sent as `Authorization: Bearer` to the public key URL")
    args = parser.parse_args(argv)  # exits 2 on a usage error
    try:
        certificate = _read_certificate(args.certificate)
        public_key = args.public_key or _fetch_public_key(args.public_key_url, args.api_key)
    except Unusable as error:
        print(f"verify: {error}", file=sys.stderr)
        return UNUSABLE
    if verify_certificate(certificate, public_key):
        print("valid")
        return VALID
    print("INVALID")
    return INVALID


def _read_certificate(path: str) -> object:
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except OSError as error:
        raise Unusable(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:  # not UTF-8, or not JSON
        raise Unusable(f"{path} is not a JSON document: {error}") from None


def _fetch_public_key(url: str, api_key: str | None) -> str:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise Unusable(f"the public key URL must be http or https: {url}")
    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    try:
        request = urllib.request.Request(url, headers=headers)
    except ValueError as error:
        raise Unusable(f"not a URL: {error}") from None
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310 (scheme checked)
            body = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise Unusable(f"{url} answered {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        raise Unusable(f"cannot reach {url}: {getattr(error, 'reason', error)}") from None
    except ValueError:
        raise Unusable(f"{url} did not answer JSON") from None
    public_key = body.get("public_key") if isinstance(body, dict) else None
    if not isinstance(public_key, str):
        raise Unusable(f"{url} answered no `public_key`")
    return public_key


if __name__ == "__main__":
    sys.exit(main())
