"""Image pipeline and media storage, reusable by any domain (news images, citizen photos).

Every upload is decoded (never trusted by name or type), checked against decompression bombs,
turned upright, stripped of ALL metadata (EXIF incl. GPS, XMP, ICC, comments) by copying only
its pixels, re-encoded, and stored content-addressed by the SHA-256 of the cleaned file, with
resized variants next to it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import String, cast, event, select
from sqlalchemy.orm import Session

from cityapp.auth.models import StaffUser
from cityapp.auth.service import Actor, record_audit
from cityapp.content.models import MediaAsset, NewsItem
from cityapp.db import db
from cityapp.errors import AppError, NotFound, UnsupportedMediaType, ValidationError


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
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


# --- storage ---------------------------------------------------------------------------


class MediaStorage(Protocol):
    """Where media bytes live. An object store implements the same four methods."""

    def put(self, key: str, data: bytes) -> None: ...

    def read(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, sha: str) -> None:
        """Remove the original and every variant stored under ``sha`` (missing is fine)."""

    def local_path(self, key: str) -> str | None:
        """A file path for efficient serving (sendfile, Range), or None for remote stores."""

    def stored(self) -> Iterator[tuple[str, float]]:
        """Every stored sha with the time (epoch seconds) its files were last written."""


class LocalDirectoryStorage:
    """Files under a directory: <root>/<sha[:2]>/<sha>/<variant>."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        sha, _, variant = key.partition("/")
        if not _SHA_RE.match(sha) or variant not in (ORIGINAL, *VARIANTS):
            raise ValueError(f"bad media key {key!r}")
        return self.root / sha[:2] / sha / variant

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            # Content-addressed: same key, same bytes. Mark it written now, so the orphan
            # sweep leaves files that an upload in progress is about to reference.
            os.utime(path)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)  # atomic: readers never see half a file
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def local_path(self, key: str) -> str | None:
        return str(self._path(key))

    def delete(self, sha: str) -> None:
        if not _SHA_RE.match(sha):
            raise ValueError(f"bad media key {sha!r}")
        shutil.rmtree(self.root / sha[:2] / sha, ignore_errors=True)

    def stored(self) -> Iterator[tuple[str, float]]:
        if not self.root.is_dir():
            return
        for prefix in sorted(self.root.iterdir()):
            if not prefix.is_dir():
                continue
            for directory in sorted(prefix.iterdir()):
                if not _SHA_RE.match(directory.name):
                    continue
                try:
                    times = [entry.stat().st_mtime for entry in directory.iterdir()]
                    times.append(directory.stat().st_mtime)
                except FileNotFoundError:  # deleted while we looked
                    continue
                yield directory.name, max(times)


def get_storage() -> MediaStorage:
    storage = current_app.extensions.get("cityapp.media_storage")
    if storage is None or getattr(storage, "root", None) != Path(
        current_app.config["CITYAPP_MEDIA_DIR"]
    ):
        storage = LocalDirectoryStorage(current_app.config["CITYAPP_MEDIA_DIR"])
        current_app.extensions["cityapp.media_storage"] = storage
    return storage


# --- pipeline --------------------------------------------------------------------------


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


def _variant_info(encoded: EncodedImage) -> dict:
    return {
        "sha256": encoded.sha256,
        "mime_type": encoded.mime_type,
        "width": encoded.width,
        "height": encoded.height,
        "size_bytes": len(encoded.data),
    }


def store_image(actor: Actor, data: bytes, *, is_public: bool = True) -> tuple[MediaAsset, bool]:
    """Process and store an image; returns (asset, created). Uploading the same picture again
    returns the existing asset. Files are written before the commit; an aborted transaction
    leaves only unreferenced content-addressed files behind."""
    config = current_app.config
    processed = process_image(
        data,
        max_bytes=config["CITYAPP_MAX_IMAGE_BYTES"],
        max_pixels=config["CITYAPP_MAX_IMAGE_PIXELS"],
    )
    sha = processed.original.sha256
    existing = db.session.scalar(select(MediaAsset).where(MediaAsset.sha256 == sha))
    if existing is not None:
        if is_public and not existing.is_public:
            existing.is_public = True
        return existing, False
    storage = get_storage()
    storage.put(f"{sha}/{ORIGINAL}", processed.original.data)
    for name, encoded in processed.variants.items():
        storage.put(f"{sha}/{name}", encoded.data)
    asset = MediaAsset(
        sha256=sha,
        mime_type=processed.original.mime_type,
        width=processed.original.width,
        height=processed.original.height,
        size_bytes=len(processed.original.data),
        variants={name: _variant_info(enc) for name, enc in processed.variants.items()},
        is_public=is_public,
        created_by_id=actor.id if isinstance(actor, StaffUser) else None,
    )
    db.session.add(asset)
    db.session.flush()
    record_audit(
        actor,
        "media.upload",
        object_type="media",
        object_id=sha,
        summary=f"{asset.mime_type} {asset.width}x{asset.height}",
    )
    return asset, True


def get_public_media(sha: str) -> MediaAsset:
    asset = None
    if _SHA_RE.match(sha):
        asset = db.session.scalar(select(MediaAsset).where(MediaAsset.sha256 == sha))
    if asset is None or not asset.is_public:
        raise NotFound("No such media.")
    return asset


def variant_of(asset: MediaAsset, variant: str) -> dict:
    if variant == ORIGINAL:
        return {
            "sha256": asset.sha256,
            "mime_type": asset.mime_type,
            "width": asset.width,
            "height": asset.height,
            "size_bytes": asset.size_bytes,
        }
    if variant not in asset.variants:
        raise NotFound(f"No variant {variant!r}; use one of {', '.join(VARIANTS)}.")
    return asset.variants[variant]


# --- deletion --------------------------------------------------------------------------

log = logging.getLogger(__name__)

#: Functions ``(asset) -> bool`` telling whether a domain still uses an asset. Domains that
#: reference media register one here (content registers news images below; feedback its
#: report photos), so deletion never needs to know every domain.
MEDIA_REFERENCES: list[Callable[[MediaAsset], bool]] = []

_FILES_TO_DELETE = "cityapp_media_files_to_delete"


def register_media_reference(check: Callable[[MediaAsset], bool]) -> None:
    if check not in MEDIA_REFERENCES:
        MEDIA_REFERENCES.append(check)


def _used_by_news(asset: MediaAsset) -> bool:
    # images is a small JSON list of {"sha256", "alt"}; the nightly callers check a handful of
    # assets, so a text match over the column is fine here.
    return (
        db.session.scalar(
            select(NewsItem.id).where(cast(NewsItem.images, String).contains(asset.sha256)).limit(1)
        )
        is not None
    )


register_media_reference(_used_by_news)


def delete_unused_media(actor: Actor, asset_ids: Iterable[int | None]) -> list[str]:
    """Delete the given assets that nothing references any more. Rows go in the caller's
    transaction; the files are removed only after it commits (a rollback keeps them)."""
    deleted: list[str] = []
    for asset_id in sorted({i for i in asset_ids if i is not None}):
        asset = db.session.get(MediaAsset, asset_id)
        if asset is None or any(check(asset) for check in MEDIA_REFERENCES):
            continue
        deleted.append(asset.sha256)
        db.session.delete(asset)
    if deleted:
        db.session.flush()
        db.session().info.setdefault(_FILES_TO_DELETE, []).extend(deleted)
        record_audit(
            actor,
            "media.delete",
            object_type="media",
            summary=f"{len(deleted)} unused asset(s) deleted",
            changes={"sha256": deleted},
        )
    return deleted


def purge_orphan_files(now: float | None = None, *, min_age_s: float = 3600) -> int:
    """Delete stored files that no media row references and that were last written more than
    ``min_age_s`` ago: what uploads whose transaction failed left behind (a citizen's photo,
    even stripped of its metadata, must not stay on disk without a record), and files whose
    deletion after a commit failed. Younger files may belong to an upload still in flight."""
    cutoff = (time.time() if now is None else now) - min_age_s
    candidates = [sha for sha, written in get_storage().stored() if written < cutoff]
    purged = 0
    for start in range(0, len(candidates), 500):
        batch = candidates[start : start + 500]
        known = set(
            db.session.scalars(select(MediaAsset.sha256).where(MediaAsset.sha256.in_(batch)))
        )
        for sha in batch:
            if sha not in known:
                get_storage().delete(sha)
                purged += 1
    if purged:
        log.info("deleted the files of %d unreferenced media", purged)
    return purged


@event.listens_for(Session, "after_commit")
def _delete_files(session: Session) -> None:
    shas = session.info.pop(_FILES_TO_DELETE, [])
    if not shas:
        return
    storage = get_storage()
    for sha in shas:
        try:
            storage.delete(sha)
        except OSError:  # a leftover file is harmless; the next purge does not see it again
            log.exception("could not delete the files of media %s", sha[:12])


@event.listens_for(Session, "after_soft_rollback")
def _keep_files(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_FILES_TO_DELETE, None)
