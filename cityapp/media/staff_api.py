"""Staff media API: upload an image (editors); it is cleaned before anything is stored."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from cityapp.auth.models import Role
from cityapp.auth.permissions import current_staff, staff_required
from cityapp.db import db
from cityapp.http.checks import accepts
from cityapp.media import service as media
from cityapp.media.models import MediaAsset
from cityapp.media.schemas import MediaSchema, MediaUploadSchema

blp = Blueprint("media_staff", __name__, url_prefix="/api/v1/staff", description="Media for staff")
EDITORS = (Role.EDITOR, Role.ADMIN)


def media_body(asset: MediaAsset) -> dict:
    """The asset as MediaSchema expects it: absolute URLs for the original and each variant."""
    variants = {
        name: {**info, "url": media.media_url(asset.sha256, name)}
        for name, info in asset.variants.items()
    }
    return {
        "sha256": asset.sha256,
        "url": media.media_url(asset.sha256),
        "mime_type": asset.mime_type,
        "width": asset.width,
        "height": asset.height,
        "size_bytes": asset.size_bytes,
        "variants": variants,
        "created_at": asset.created_at,
    }


@blp.post("/media")
@staff_required(*EDITORS)
@accepts("multipart/form-data")
@blp.arguments(MediaUploadSchema, location="files")
@blp.response(201, MediaSchema)
@blp.alt_response(413, description="Larger than CITYAPP_MAX_IMAGE_BYTES.")
@blp.alt_response(415, description="Not a JPEG, PNG or WebP image.")
@blp.alt_response(422, description="Damaged, truncated or too many pixels.")
def upload_media(files):
    """Upload a JPEG, PNG or WebP image (multipart field "file"); metadata is removed."""
    data = files["file"].read(request.max_content_length or -1)
    asset, created = media.store_image(current_staff(), data)
    db.session.commit()
    return media_body(asset), 201 if created else 200
