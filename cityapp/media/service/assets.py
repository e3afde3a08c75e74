"""Stored images: upload (process + store + record), public lookup, variants, URLs."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from cityapp.auth.models import StaffUser
from cityapp.auth.service import Actor, record_audit
from cityapp.db import db
from cityapp.errors import NotFound
from cityapp.media.models import MediaAsset
from cityapp.media.service.images import ORIGINAL, VARIANTS, EncodedImage, process_image
from cityapp.media.service.storage import SHA_RE, get_storage


def media_url(sha: str, variant: str | None = None) -> str:
    """The absolute public URL of an image or one of its variants."""
    base = current_app.config["CITYAPP_BASE_URL"].rstrip("/")
    return f"{base}/media/{sha}" + (f"/{variant}" if variant else "")


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
    if SHA_RE.match(sha):
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
