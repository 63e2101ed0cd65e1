"""Images checked and shrunk with Pillow: that an image is the format it claims, and a picture's thumbnail."""
from __future__ import annotations

import io

from PIL import Image, ImageOps

from contacts.domain.file_types import FileContentMismatch

THUMBNAIL_SIZE = (128, 128)
PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
# Decoding needs width x height x 4 bytes; JPEG decodes at a reduced scale for a thumbnail (Pillow's draft mode).
MAX_PIXELS = {"JPEG": 80_000_000}
MAX_PIXELS_OTHERS = 25_000_000
DECODING_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


def check_image(data: bytes, content_type: str) -> None:
    """Pillow reads `data` as an image of `content_type` and finds nothing broken; FileContentMismatch otherwise."""
    with _opened(data, content_type) as image:
        try:
            image.verify()
        except DECODING_ERRORS:
            raise FileContentMismatch(content_type, "Pillow finds it damaged") from None


def thumbnail(data: bytes, content_type: str) -> tuple[bytes, str]:
    """A thumbnail that fits in 128x128 (aspect kept, EXIF rotation applied): JPEG, or PNG if it has transparency."""
    with _opened(data, content_type) as image:
        width, height = image.size
        if width * height > MAX_PIXELS.get(image.format, MAX_PIXELS_OTHERS):
            raise FileContentMismatch(content_type, f"it is too large a picture ({width}x{height} pixels)")
        try:
            image.thumbnail(THUMBNAIL_SIZE)
            small = ImageOps.exif_transpose(image)
        except DECODING_ERRORS:
            raise FileContentMismatch(content_type, "Pillow cannot decode it") from None
    transparent = small.mode in ("RGBA", "LA", "PA") or "transparency" in small.info
    out = io.BytesIO()
    if transparent:
        small.convert("RGBA").save(out, "PNG", optimize=True)
        return out.getvalue(), "image/png"
    small.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue(), "image/jpeg"


def _opened(data: bytes, content_type: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[content_type]])
    except DECODING_ERRORS:
        raise FileContentMismatch(content_type, f"Pillow cannot read it as {PILLOW_FORMATS[content_type]}") from None
    return image
