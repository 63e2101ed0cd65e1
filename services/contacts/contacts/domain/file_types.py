"""Which files may be attached to a contact, and whether a file's bytes are what its media type says."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from crm_platform.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

_ZIP = rb"PK\x03\x04"
# Accepted media type -> (file name extensions, how its content starts).
FILE_TYPES: dict[str, tuple[tuple[str, ...], bytes | None]] = {
    "application/pdf": ((".pdf",), rb"%PDF-"),
    "image/png": ((".png",), rb"\x89PNG\r\n\x1a\n"),
    "image/jpeg": ((".jpg", ".jpeg"), rb"\xff\xd8\xff"),
    "image/gif": ((".gif",), rb"GIF8[79]a"),
    "image/webp": ((".webp",), rb"RIFF.{4}WEBP"),
    "text/plain": ((".txt",), None),
    "text/csv": ((".csv",), None),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ((".docx",), _ZIP),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ((".xlsx",), _ZIP),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ((".pptx",), _ZIP),
    "application/vnd.oasis.opendocument.text": ((".odt",), _ZIP),
    "application/vnd.oasis.opendocument.spreadsheet": ((".ods",), _ZIP),
    "application/zip": ((".zip",), _ZIP),
}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")  # also the profile picture's
# Names some clients give these types.
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-zip-compressed": "application/zip",
           "application/x-pdf": "application/pdf"}
GENERIC_TYPES = ("", "application/octet-stream")  # what clients send when they do not know: read the extension
MAX_FILE_NAME = 255


class FileTooLarge(PayloadTooLarge):
    def __init__(self, max_bytes: int, size: int) -> None:
        super().__init__("the file", max_bytes, size)


class EmptyFile(InvalidInput):
    def __init__(self) -> None:
        super().__init__("the file is empty", errors={"file": ["must not be empty"]})


class UnsupportedFileType(UnsupportedMediaType):
    def __init__(self, content_type: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"{content_type or 'a file without media type'} is not accepted here; accepted: "
                         f"{', '.join(allowed)}", allowed=list(allowed))


class FileContentMismatch(InvalidInput):
    """The bytes are not what the declared media type says (e.g. a PNG that is not one)."""

    title = "File content does not match its type"
    slug = "file-content-mismatch"

    def __init__(self, content_type: str, reason: str) -> None:
        super().__init__(f"the file is declared as {content_type} but {reason}", errors={"file": [reason]})


@dataclass(frozen=True)
class CheckedFile:
    file_name: str
    content_type: str
    size: int


def check_file(file_name: str, declared_type: str, data: bytes, *, max_bytes: int,
               allowed: tuple[str, ...] = tuple(FILE_TYPES)) -> CheckedFile:
    """The file's clean name and media type, once its size, type and first bytes pass; a typed error otherwise."""
    if len(data) > max_bytes:
        raise FileTooLarge(max_bytes, len(data))
    if not data:
        raise EmptyFile()
    content_type = media_type(declared_type, file_name)
    if content_type not in allowed:
        raise UnsupportedFileType(content_type, allowed)
    signature = FILE_TYPES[content_type][1]
    if signature is not None and not re.match(signature, data[:16], re.DOTALL):
        raise FileContentMismatch(content_type, "its content does not start as such a file does")
    if signature is None and b"\x00" in data:
        raise FileContentMismatch(content_type, "it holds NUL bytes, which text does not (save it as UTF-8)")
    return CheckedFile(clean_file_name(file_name, content_type), content_type, len(data))


def media_type(declared: str, file_name: str) -> str:
    """The bare media type of an upload: as declared, or read from the name's extension if the client did not know."""
    bare = declared.split(";", 1)[0].strip().lower()
    bare = ALIASES.get(bare, bare)
    if bare in GENERIC_TYPES:
        extension = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
        return next((kind for kind, (extensions, _) in FILE_TYPES.items() if extension in extensions), bare)
    return bare


def clean_file_name(file_name: str, content_type: str) -> str:
    """The name without any folder a browser sent along or control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", re.split(r"[/\\]", file_name)[-1])
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    if not name:
        return "file" + FILE_TYPES[content_type][0][0]
    stem, dot, extension = name.rpartition(".")
    if len(name) > MAX_FILE_NAME and dot and len(extension) < 16:
        return stem[: MAX_FILE_NAME - len(extension) - 1] + "." + extension
    return name[:MAX_FILE_NAME]
