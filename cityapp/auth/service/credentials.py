"""Secrets at rest: token hashing, new tokens, and argon2 password hashes."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from flask import current_app

from cityapp.errors import ValidationError

STAFF_TOKEN_PREFIX = "cat_"
INSTALLATION_TOKEN_PREFIX = "cai_"


def hash_secret(value: str) -> str:
    """SHA-256 of a high-entropy token: enough for 256-bit secrets, and fast to look up."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_token(prefix: str) -> str:
    """A 256-bit random token with a type prefix (so leaked tokens are recognisable)."""
    return prefix + secrets.token_urlsafe(32)


def password_hasher() -> PasswordHasher:
    config = current_app.config
    kwargs = {}
    if "CITYAPP_ARGON2_TIME_COST" in config:
        kwargs["time_cost"] = config["CITYAPP_ARGON2_TIME_COST"]
    if "CITYAPP_ARGON2_MEMORY_COST" in config:
        kwargs["memory_cost"] = config["CITYAPP_ARGON2_MEMORY_COST"]
    return PasswordHasher(**kwargs)  # argon2id by default


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


_DUMMY_HASHES: dict[tuple, str] = {}


def dummy_hash() -> str:
    """A hash to verify against for unknown accounts, so they cost the same time."""
    hasher = password_hasher()
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASHES[key]


def validate_password(password: str) -> None:
    if len(password) < 10:
        raise ValidationError(
            "The password is too short.", errors={"password": ["Use at least 10 characters."]}
        )
    if len(password) > 1024:
        raise ValidationError(errors={"password": ["At most 1024 characters."]})
