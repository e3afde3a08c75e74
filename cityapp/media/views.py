"""Public media: /media/<sha256>[/<variant>], immutable, with strong ETags and Range."""

from __future__ import annotations

import io

from flask import Blueprint, send_file

from cityapp.media import service as media

bp = Blueprint("media", __name__, url_prefix="/media")

IMMUTABLE = 365 * 24 * 3600


@bp.get("/<sha>", defaults={"variant": media.ORIGINAL})
@bp.get("/<sha>/<variant>")
def serve(sha: str, variant: str):
    """A cleaned image or one of its variants (thumbnail, display)."""
    asset = media.get_public_media(sha)
    info = media.variant_of(asset, variant)
    storage = media.get_storage()
    key = f"{asset.sha256}/{variant}"
    path = storage.local_path(key)
    source = path if path is not None else io.BytesIO(storage.read(key))
    response = send_file(
        source,
        mimetype=info["mime_type"],
        conditional=True,
        etag=info["sha256"],
        max_age=IMMUTABLE,
        last_modified=asset.created_at,
    )
    response.cache_control.immutable = True
    response.headers["Cache-Control"] = f"public, max-age={IMMUTABLE}, immutable"
    response.headers.pop("Expires", None)
    return response
