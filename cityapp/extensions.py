"""Flask extensions, created unbound; create_app() binds them. Imports nothing from cityapp."""

from __future__ import annotations

import re
import time

from flask import Response, g, request
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


def _policy_name(limit) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(limit).lower()).strip("-")


def rate_limit_headers(response: Response) -> Response:
    """On a rate-limited endpoint, describe its limits with the IETF headers
    (draft-ietf-httpapi-ratelimit-headers): ``RateLimit-Policy: "10-per-1-minute";q=10;w=60``
    and ``RateLimit: "10-per-1-minute";r=9;t=42`` (quota, window seconds, remaining, seconds to
    reset). Retry-After goes only on 429s (cityapp.errors), never on successes."""
    limits = limiter.current_limits if limiter.enabled else []
    if not limits:
        return response
    now = time.time()
    policies, states = [], []
    for current in limits:
        name = _policy_name(current.limit)
        policies.append(f'"{name}";q={current.limit.amount};w={current.limit.get_expiry()}')
        reset = max(0, int(current.reset_at - now))
        states.append(f'"{name}";r={max(0, current.remaining)};t={reset}')
    response.headers["RateLimit-Policy"] = ", ".join(policies)
    response.headers["RateLimit"] = ", ".join(states)
    return response


class CityApi(Api):
    """flask-smorest's Api, documenting errors as RFC 9457 problem+json."""

    def _register_responses(self) -> None:
        import http as _http

        from flask_smorest.utils import prepare_response

        from cityapp.openapi import ProblemSchema  # the only cityapp import, made lazily

        for status in _http.HTTPStatus:
            response: dict = {"description": status.phrase}
            if status >= 400:
                response["schema"] = ProblemSchema
            prepare_response(response, self.spec, "application/problem+json")
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "schema": ProblemSchema}
        prepare_response(default, self.spec, "application/problem+json")
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=rate_limit_key)
api = CityApi()
