"""Media: the image pipeline, content-addressed storage and the public file URLs.

Part of the shared core: every domain may use it (news images, citizen photos); it uses no
domain. Domains that reference media tell it so through ``register_media_reference``."""
