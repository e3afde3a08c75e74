"""Marshmallow schemas for media: the upload form and the stored image with its variants."""

from __future__ import annotations

from marshmallow import Schema, fields

from cityapp.fields import Integer, Text, UTCDateTime

# Example values for the OpenAPI document (one picture of the Hauptstraße works).
SHA256_EXAMPLE = "0db564ef880df75fed8abedc56798d1a0d77a8b9f86657876c47525491eb27e3"
_DISPLAY_SHA256_EXAMPLE = "dd931f9360a838d8f99f7a1b18cdffcf27038383e1c6f18ca132217c7f3a6931"
_THUMBNAIL_SHA256_EXAMPLE = "31220b35d544ded9dfc1656ea68d5630ac69e7963071150b81f407350ab0e8e7"
MEDIA_URL_EXAMPLE = f"https://app.musterstadt.example/media/{SHA256_EXAMPLE}"


class MediaVariantSchema(Schema):
    url = Text(metadata={"example": f"{MEDIA_URL_EXAMPLE}/display"})
    sha256 = Text(metadata={"example": _DISPLAY_SHA256_EXAMPLE})
    mime_type = Text(metadata={"example": "image/jpeg"})
    width = Integer(metadata={"example": 1600})
    height = Integer(metadata={"example": 1067})
    size_bytes = Integer(metadata={"example": 284311})


class MediaSchema(Schema):
    """A stored image: cleaned original plus variants."""

    sha256 = Text(metadata={"example": SHA256_EXAMPLE})
    url = Text(metadata={"example": MEDIA_URL_EXAMPLE})
    mime_type = Text(metadata={"example": "image/jpeg"})
    width = Integer(metadata={"example": 3000})
    height = Integer(metadata={"example": 2000})
    size_bytes = Integer(metadata={"example": 1873402})
    variants = fields.Dict(
        keys=Text(),
        values=fields.Nested(MediaVariantSchema),
        metadata={
            "description": "By variant name: thumbnail and display.",
            "example": {
                "thumbnail": {
                    "url": f"{MEDIA_URL_EXAMPLE}/thumbnail",
                    "sha256": _THUMBNAIL_SHA256_EXAMPLE,
                    "mime_type": "image/jpeg",
                    "width": 400,
                    "height": 267,
                    "size_bytes": 31877,
                },
                "display": {
                    "url": f"{MEDIA_URL_EXAMPLE}/display",
                    "sha256": _DISPLAY_SHA256_EXAMPLE,
                    "mime_type": "image/jpeg",
                    "width": 1600,
                    "height": 1067,
                    "size_bytes": 284311,
                },
            },
        },
    )
    created_at = UTCDateTime()


class MediaUploadSchema(Schema):
    file = fields.Raw(
        required=True,
        metadata={
            "type": "string",
            "format": "binary",
            "description": "The image file (JPEG, PNG or WebP).",
            "example": "baustelle-hauptstrasse.jpg",
        },
    )
