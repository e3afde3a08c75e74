"""App installations: an anonymous credential per installed app, resolved and forgotten."""

from __future__ import annotations

from sqlalchemy import select

from cityapp.auth.models import Installation
from cityapp.auth.service.credentials import INSTALLATION_TOKEN_PREFIX, hash_secret, new_token
from cityapp.auth.service.tokens import touch_last_used
from cityapp.db import db


def create_installation() -> tuple[Installation, str]:
    plaintext = new_token(INSTALLATION_TOKEN_PREFIX)
    installation = Installation(token_hash=hash_secret(plaintext))
    db.session.add(installation)
    db.session.flush()
    return installation, plaintext


def resolve_installation_token(plaintext: str) -> Installation | None:
    installation = db.session.scalar(
        select(Installation).where(Installation.token_hash == hash_secret(plaintext))
    )
    if installation is not None:
        touch_last_used(installation, "last_used_at")
    return installation


def delete_installation(installation: Installation) -> None:
    """Forget an installation. Domains' rows go with it through their foreign keys (ON DELETE
    CASCADE); ``installation_deleting`` lets them correct derived values first."""
    from cityapp.signals import installation_deleting

    installation_deleting.send("installation", installation_id=installation.id)
    db.session.delete(installation)
