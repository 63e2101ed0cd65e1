"""Files over HTTP: one file read from a multipart upload, and a streamed download with safe headers."""
from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import quote

from flask import Response, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import parse_form_data

from crm_platform.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

MULTIPART_FRAMING = 64 * 1024  # room for the boundaries and part headers around the file


@dataclass(frozen=True)
class UploadedFile:
    file_name: str
    content_type: str  # as the client declared it for the part, "" if it did not
    data: bytes


def uploaded_file(field: str, max_bytes: int) -> UploadedFile:
    """The file sent in `field` of a multipart/form-data request, read in memory, never onto the pod's disk.

    415 if the body is not multipart, 413 when it is larger than `max_bytes`
    (and its framing), 422 when the field holds no file.
    """
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType(f"send the file as multipart/form-data, in a field named `{field}`")
    limit = max_bytes + MULTIPART_FRAMING
    if (request.content_length or 0) > limit:
        raise PayloadTooLarge("the upload", max_bytes, request.content_length)
    try:
        _, _, files = parse_form_data(request.environ, stream_factory=_in_memory, max_content_length=limit,
                                      max_form_parts=20)
    except RequestEntityTooLarge:  # a body sent without Content-Length ran past the limit
        raise PayloadTooLarge("the upload", max_bytes) from None
    part = files.get(field)
    if part is None:
        raise InvalidInput(f"no file in the `{field}` field", errors={field: ["a file is required"]})
    data = part.read()
    if len(data) > max_bytes:  # the framing allowance let it through: the file itself is too large
        raise PayloadTooLarge("the file", max_bytes, len(data))
    return UploadedFile(part.filename or "", part.content_type or "", data)


def download_response(contents: Iterable[bytes], *, length: int, content_type: str, file_name: str, etag: str,
                      inline: bool = False) -> Response:
    """A streamed file: its exact length, a disposition with an RFC 6266 / 5987 file name, an ETag, nosniff.

    Answers 304 to a matching If-None-Match without sending the content.
    """
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(contents, content_type=content_type, direct_passthrough=True)
        response.content_length = length
        response.headers.set("Content-Disposition", "inline" if inline else "attachment",
                             **_file_name_parameters(file_name))
    response.set_etag(etag)
    response.headers["X-Content-Type-Options"] = "nosniff"  # browsers must not read a file as another type
    return response


def _file_name_parameters(file_name: str) -> dict[str, str]:
    """`filename` in plain ASCII for old clients, `filename*` with the exact UTF-8 name for the others."""
    ascii_name = unicodedata.normalize("NFKD", file_name).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(c for c in ascii_name if c.isprintable() and c not in '"\\') or "file"
    return {"filename": ascii_name, "filename*": f"UTF-8''{quote(file_name, safe='')}"}


def _in_memory(total_content_length, content_type, filename, content_length=None) -> io.BytesIO:
    return io.BytesIO()
