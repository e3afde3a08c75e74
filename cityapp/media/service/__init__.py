"""Media business rules: the image pipeline, storage, stored assets and their deletion.

Other packages import these names from here. Services never commit."""

from cityapp.media.service.assets import get_public_media, media_url, store_image, variant_of
from cityapp.media.service.images import (
    ACCEPTED_MIME_TYPES,
    ORIGINAL,
    VARIANTS,
    PayloadTooLarge,
    process_image,
)
from cityapp.media.service.references import (
    delete_unused_media,
    purge_orphan_files,
    register_media_file_cleanup,
    register_media_reference,
)
from cityapp.media.service.storage import MediaStorage, get_storage

__all__ = [
    "ACCEPTED_MIME_TYPES",
    "ORIGINAL",
    "VARIANTS",
    "MediaStorage",
    "PayloadTooLarge",
    "delete_unused_media",
    "get_public_media",
    "get_storage",
    "media_url",
    "process_image",
    "purge_orphan_files",
    "register_media_file_cleanup",
    "register_media_reference",
    "store_image",
    "variant_of",
]
