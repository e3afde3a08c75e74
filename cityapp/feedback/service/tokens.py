"""Reporter tracking tokens: 256 bits, stored as SHA-256; re-derivable for mails only with
the app's secret key (HMAC over a random per-report nonce)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app

from cityapp.auth.service.credentials import hash_secret
from cityapp.feedback.models import Report

TRACKING_PREFIX = "crt_"


def _derive(nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, b"report-tracking:" + nonce.encode(), hashlib.sha256).digest()
    return TRACKING_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_tracking_token() -> tuple[str, str, str]:
    """(plaintext, nonce, hash) for a new report."""
    nonce = secrets.token_hex(32)
    plaintext = _derive(nonce)
    return plaintext, nonce, hash_secret(plaintext)


def tracking_token_for(report: Report) -> str:
    return _derive(report.tracking_nonce)
