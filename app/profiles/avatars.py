"""Turning an uploaded picture into avatar images: checked, decoded, squared, re-encoded.

Only raster formats Pillow decodes natively are accepted (JPEG, PNG, WebP, GIF), and only still
pictures. Before a pixel is decoded the picture's size is read from its header and compared with
``max_pixels``, so a small file that unpacks into gigabytes (a decompression bomb) costs nothing;
Pillow's own bomb check stays on behind it. SVG is refused outright: it is a document that can
carry script, not a picture.

Every size is re-encoded as WebP from the decoded pixels alone, with the picture's ``info``
(EXIF, XMP, ICC, comments) dropped, so no metadata a camera or an editor wrote (a GPS position,
a device, a name) is ever served. The orientation EXIF asks for is applied first, so the
picture still stands the right way up once EXIF is gone.
"""

from __future__ import annotations

import hashlib
import io
import warnings

import msgspec
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import DomainError

SIZES = (64, 256)  # square edge lengths, in pixels, of the images kept per avatar
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
CONTENT_TYPE = "image/webp"
_QUALITY = 85


class AvatarRejected(DomainError):
    """The upload cannot become an avatar; ``code`` says why."""

    status_code = 422
    code = "not_an_image"


class AvatarTooLarge(DomainError):
    status_code = 413
    code = "avatar_too_large"


class Processed(msgspec.Struct, frozen=True):
    digest: str  # names the set of images: the same picture always gets the same digest
    images: dict[int, bytes]  # edge length -> WebP bytes


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def process(data: bytes, max_pixels: int) -> Processed:
    """The avatar images of ``data``, or ``AvatarRejected`` with the reason as its code."""
    if not data:
        raise AvatarRejected("the upload is empty", code="empty_upload")
    if _looks_like_svg(data):
        raise AvatarRejected(
            "SVG pictures are not accepted as avatars; send a JPEG, PNG, WebP or GIF",
            code="avatar_svg_refused",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            picture = Image.open(io.BytesIO(data), formats=FORMATS)
        except UnidentifiedImageError as exc:
            raise AvatarRejected(
                "the upload is not a picture Pillow can read (JPEG, PNG, WebP or GIF)", code="not_an_image"
            ) from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels(max_pixels) from exc
        with picture:
            width, height = picture.size
            if width * height > max_pixels:
                raise _too_many_pixels(max_pixels, width, height)
            if getattr(picture, "n_frames", 1) > 1:
                raise AvatarRejected(
                    "animated pictures are not accepted as avatars; send a still one", code="avatar_animated"
                )
            picture.draft("RGB", (max(SIZES) * 2, max(SIZES) * 2))  # JPEG: decode at a fraction of the size
            try:
                picture.load()
                upright = ImageOps.exif_transpose(picture)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise _too_many_pixels(max_pixels) from exc
            except (OSError, SyntaxError, ValueError) as exc:
                raise AvatarRejected(
                    f"the picture could not be decoded: it is truncated or damaged ({exc})",
                    code="avatar_damaged",
                ) from exc
    return _encode(upright)


def _too_many_pixels(max_pixels: int, width: int | None = None, height: int | None = None) -> AvatarRejected:
    size = f" ({width}x{height})" if width is not None else ""
    return AvatarRejected(
        f"the picture{size} has more than {max_pixels} pixels",
        code="avatar_too_many_pixels",
        details={"max_pixels": max_pixels},
    )


def _encode(picture: Image.Image) -> Processed:
    mode = "RGBA" if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info else "RGB"
    pixels = picture.convert(mode)
    images: dict[int, bytes] = {}
    for size in SIZES:
        square = ImageOps.fit(pixels, (size, size), Image.Resampling.LANCZOS)
        square.info = {}  # no EXIF, XMP, ICC profile or comment reaches the encoder
        out = io.BytesIO()
        square.save(out, "WEBP", quality=_QUALITY, method=4, exif=b"", icc_profile=None, xmp=b"")
        images[size] = out.getvalue()
    digest = hashlib.sha256(b"".join(images[size] for size in SIZES)).hexdigest()[:32]
    return Processed(digest=digest, images=images)
