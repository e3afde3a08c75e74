"""The image pipeline: decode, verify, strip every piece of metadata, re-encode, resize.

Every upload is decoded (never trusted by name or type), checked against decompression bombs,
turned upright, stripped of ALL metadata (EXIF incl. GPS, XMP, ICC, comments) by copying only
its pixels and re-encoded; the resized variants are built from the cleaned pixels. Pure: it
stores nothing.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from cityapp.errors import AppError, UnsupportedMediaType, ValidationError


class PayloadTooLarge(AppError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


# format -> (mime type, save options)
FORMATS: dict[str, tuple[str, dict]] = {
    "JPEG": ("image/jpeg", {"quality": 85, "optimize": True, "progressive": True}),
    "PNG": ("image/png", {"optimize": False, "compress_level": 6}),
    "WEBP": ("image/webp", {"quality": 85, "method": 4}),
}
ACCEPTED_MIME_TYPES = tuple(mime for mime, _ in FORMATS.values())
# variant name -> longest side in pixels
VARIANTS: dict[str, int] = {"thumbnail": 400, "display": 1600}
ORIGINAL = "original"


@dataclass
class EncodedImage:
    data: bytes
    mime_type: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class ProcessedImage:
    original: EncodedImage
    variants: dict[str, EncodedImage]


def _decode(data: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    def bomb() -> ValidationError:
        return ValidationError(
            "The image has too many pixels.",
            errors={"file": [f"At most {max_pixels} pixels (decompression bomb protection)."]},
        )

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            raise UnsupportedMediaType(
                "Not an image we accept.", errors={"file": ["Upload a JPEG, PNG or WebP image."]}
            ) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise bomb() from None
        image_format = probe.format or ""
        if image_format not in FORMATS:
            raise UnsupportedMediaType(
                f"{image_format or 'This'} images are not accepted.",
                errors={"file": ["Upload a JPEG, PNG or WebP image."]},
            )
        width, height = probe.size
        if width * height > max_pixels:
            raise bomb()
        try:
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()  # truncated or corrupt pixel data fails here
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise bomb() from None
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise ValidationError(
                "The image is damaged or truncated.", errors={"file": [f"Cannot decode: {error}"]}
            ) from None
    return image, image_format


def _pixels_only(image: Image.Image, image_format: str) -> Image.Image:
    """Upright, in a mode the format can store, with nothing but pixels (no info, no EXIF,
    no ICC, no XMP, no text chunks)."""
    image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if image_format == "JPEG":
        mode = "L" if image.mode == "L" else "RGB"
    else:
        mode = "RGBA" if has_alpha else ("L" if image.mode == "L" else "RGB")
    if image.mode != mode:
        image = image.convert(mode)
    return Image.frombytes(mode, image.size, image.tobytes())


def _encode(image: Image.Image, image_format: str) -> EncodedImage:
    mime, options = FORMATS[image_format]
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return EncodedImage(buffer.getvalue(), mime, image.width, image.height)


def process_image(data: bytes, *, max_bytes: int, max_pixels: int) -> ProcessedImage:
    """Verify, clean and re-encode an upload; build the variants. Pure: stores nothing."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"Images are limited to {max_bytes} bytes.",
            errors={"file": [f"At most {max_bytes} bytes."]},
        )
    if not data:
        raise ValidationError(errors={"file": ["The file is empty."]})
    image, image_format = _decode(data, max_pixels)
    clean = _pixels_only(image, image_format)
    original = _encode(clean, image_format)
    variants = {}
    for name, longest in VARIANTS.items():
        if max(clean.size) <= longest:
            variants[name] = original
            continue
        resized = clean.copy()
        resized.thumbnail((longest, longest), Image.Resampling.LANCZOS)
        variants[name] = _encode(resized, image_format)
    return ProcessedImage(original=original, variants=variants)
