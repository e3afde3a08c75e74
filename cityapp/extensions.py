"""Flask extensions, created unbound; create_app() binds them. Imports nothing from cityapp."""

from __future__ import annotations

from flask import g, request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_wtf.csrf import CSRFProtect


def rate_limit_key() -> str:
    """Key rate limits per credential when the request carries one, per client IP otherwise."""
    token_hash = getattr(g, "credential_hash", None)
    if token_hash:
        return f"cred:{token_hash[:32]}"
    return f"ip:{request.remote_addr or 'unknown'}"


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=rate_limit_key)
api = Api()
