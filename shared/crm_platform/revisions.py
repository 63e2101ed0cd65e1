"""The revision a write is based on: the body's `revision`, else the If-Match header (an ETag a GET gave);
and the ETag a response carries. One copy for every service's optimistic-concurrency writes."""
from __future__ import annotations

import re

from flask import request

from crm_platform.errors import InvalidInput

IF_MATCH = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')


def based_on(data: dict, *, required: bool) -> int | None:
    """Pops `revision` from the loaded body, or reads If-Match; 422 naming `revision` when required and absent."""
    revision = data.pop("revision", None)
    if revision is not None:
        return revision
    header = request.headers.get("If-Match", "").strip()
    if header:
        match = IF_MATCH.match(header)
        if match is None:
            raise InvalidInput("If-Match is not a revision", errors={"revision": ['If-Match: "<revision>"']})
        return int(match.group(1))
    if required:
        raise InvalidInput("say which revision the change is based on", errors={
            "revision": ['required: the revision read, in the body or as If-Match: "<revision>"']})
    return None


def etag(revision: int) -> dict:
    """The ETag header of an aggregate at `revision` (what If-Match sends back)."""
    return {"ETag": f'"{revision}"'}
