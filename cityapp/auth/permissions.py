"""Who is calling: bearer tokens and staff sessions resolved once per request, role checks
for views, and the CSRF rule for cookie-authenticated writes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import OperationalError

from cityapp.auth.models import Installation, StaffUser, TokenScope
from cityapp.auth.service.credentials import (
    INSTALLATION_TOKEN_PREFIX,
    STAFF_TOKEN_PREFIX,
    hash_secret,
)
from cityapp.auth.service.installations import resolve_installation_token
from cityapp.auth.service.login import new_session_id, session_revoked
from cityapp.auth.service.tokens import resolve_staff_token
from cityapp.db import db
from cityapp.errors import Forbidden, Unauthorized
from cityapp.extensions import csrf, limiter, login_manager

log = logging.getLogger(__name__)

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# Bearer token prefix -> resolver(plaintext) -> False (invalid) or True, having stored the
# caller on ``g``. Kept per app in ``app.extensions``; a domain with its own credential
# (steles) adds its prefix with ``register_bearer`` from create_app.
BearerResolver = Callable[[str], bool]
_EXTENSION = "cityapp.bearer_resolvers"


def register_bearer(app: Flask, prefix: str, resolver: BearerResolver) -> None:
    """Accept bearer credentials starting with ``prefix`` on ``app``, resolved by ``resolver``."""
    app.extensions.setdefault(_EXTENSION, {})[prefix] = resolver


def resolve_staff_bearer(plaintext: str) -> bool:
    token = resolve_staff_token(plaintext)
    if token is None:
        return False
    g.api_token = token
    g.staff = token.owner
    return True


def resolve_installation_bearer(plaintext: str) -> bool:
    installation = resolve_installation_token(plaintext)
    if installation is None:
        return False
    g.installation = installation
    return True


def _load_identity() -> None:
    """Resolve the caller before any view runs.

    A bad bearer credential does not fail the request here: public endpoints (health probes,
    the OpenAPI document, registering a new installation, public reads) keep working for an
    app whose token was revoked. Endpoints that need a caller raise the stored 401.
    """
    g.staff = None
    g.api_token = None
    g.installation = None
    g.auth_method = None
    g.auth_error = None
    header = request.headers.get("Authorization")
    if header:
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            g.auth_error = Unauthorized("Use 'Authorization: Bearer <token>'.")
            return
        resolvers = current_app.extensions.get(_EXTENSION, {})
        resolver = next((r for prefix, r in resolvers.items() if value.startswith(prefix)), None)
        if resolver is None or len(value) > 200 or not resolver(value):
            g.auth_error = Unauthorized(
                "The token is unknown, expired or revoked.",
                headers={"WWW-Authenticate": 'Bearer realm="cityapp", error="invalid_token"'},
            )
            return
        g.auth_method = "token"
        # Rate limits key on valid credentials only: made-up tokens count against the IP.
        g.credential_hash = hash_secret(value)
        _remember_credential_use(resolver, value)
        return
    if current_user.is_authenticated:
        g.staff = current_user._get_current_object()
        g.auth_method = "session"


def raise_auth_error() -> None:
    """Raise the 401 of a rejected bearer credential, if this request carried one."""
    error = g.get("auth_error")
    if error is not None:
        raise error


def _remember_credential_use(resolver: BearerResolver, value: str) -> None:
    """Note that resolving touched the database (last_used_at, a device's rekey), so that
    ``persist_credential_use`` writes it at the end of the request."""
    # A resolver that never opened a session (the stele poll's direct lookup) touched nothing;
    # asking the scoped session would create one just to find it clean.
    if not db.session.registry.has() or not db.session.dirty:
        return
    g.credential_use = (db.session().get_transaction(), resolver, value)


def persist_credential_use(response: Response) -> Response:
    """The edge's one write for a credential's use, after the view: GET views never commit,
    and without this step last_used_at would be rolled back with them. A view that committed
    took the change along. Otherwise whatever the view left uncommitted is rolled back (the
    teardown would drop it anyway: a read's scratch state, a failed write) and the resolution
    replayed alone, so only the credential's use is written. Best effort: liveness never
    fails a request."""
    use = g.pop("credential_use", None)
    if use is None or not db.session.registry.has():
        return response
    transaction, resolver, value = use
    if db.session().get_transaction() is not transaction:
        return response  # the view committed (or rolled back) the transaction it ran in
    try:
        db.session.rollback()
        resolver(value)
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        log.warning("could not record last use of a credential", exc_info=True)
    return response


def _csrf_for_cookie_writes() -> None:
    """Cookie-authenticated state changes need the CSRF token; bearer requests never do."""
    if request.method in _SAFE_METHODS or g.get("auth_method") == "token":
        return
    # The login form too: otherwise another site could log a browser into its own account.
    if g.get("auth_method") == "session" or request.endpoint == "staff_pages.login_submit":
        csrf.protect()


@login_manager.user_loader
def _load_user(session_id: str) -> StaffUser | None:
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(StaffUser, int(user_id))
    if user is None or not user.is_active or str(user.session_version) != version:
        return None
    session_id = session.get("sid")
    if not session_id or session_revoked(session_id):
        return None  # logged out (a copy of the cookie), or a cookie from before session ids
    return user


def start_session(user: StaffUser) -> None:
    """Log a browser in (both doors: the JSON API and the HTML form). The session starts empty
    with a new id, so nothing from before the login carries over, the CSRF token least of all:
    a token another site planted or read before login is refused afterwards."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    session["sid"] = new_session_id()
    login_user(user)


def end_session() -> str | None:
    """Forget this browser's session; returns its id for the caller to revoke."""
    session_id = session.get("sid")
    logout_user()
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    return session_id


class TokenAwareSessionInterface(SecureCookieSessionInterface):
    """Never send a session cookie in answer to a token-authenticated request."""

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        if g.get("auth_method") == "token" or request.headers.get("Authorization"):
            return False
        return super().should_set_cookie(app, session)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        if g.get("auth_method") == "token" or request.headers.get("Authorization"):
            return
        super().save_session(app, session, response)


def register_auth(app: Flask) -> None:
    """Sessions, the staff and installation bearer tokens, and the per-request identity."""
    app.session_interface = TokenAwareSessionInterface()
    register_bearer(app, STAFF_TOKEN_PREFIX, resolve_staff_bearer)
    register_bearer(app, INSTALLATION_TOKEN_PREFIX, resolve_installation_bearer)
    app.before_request(_load_identity)
    app.before_request(_csrf_for_cookie_writes)
    app.after_request(persist_credential_use)


# --- view decorators ---------------------------------------------------------------------


def _login_limit_value() -> str:
    return current_app.config["CITYAPP_LOGIN_RATE_LIMIT"]


# One budget per client address for both ways to log in (JSON API and HTML form), so having
# two doors does not double the guesses an address gets.
login_rate_limit = limiter.shared_limit(_login_limit_value, scope="login")


def current_staff() -> StaffUser:
    raise_auth_error()
    staff = g.get("staff")
    if staff is None:
        if g.get("installation") is not None:
            # Authenticated, just not as staff: a valid credential without the right -> 403.
            raise Forbidden("Installation tokens cannot use staff endpoints.")
        if g.get("auth_method") == "token":  # another valid kind of credential (a stele)
            raise Forbidden("This credential cannot use staff endpoints.")
        raise Unauthorized("Log in or send a staff API token.")
    return staff


def staff_required(*roles: str) -> Callable:
    """Role check at the view; tokens also need the read (GET) or write (others) scope."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            staff = current_staff()
            if roles and not staff.has_role(*roles):
                raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
            token = g.get("api_token")
            if token is not None:
                needed = TokenScope.READ if request.method in _SAFE_METHODS else TokenScope.WRITE
                if needed not in token.scopes:
                    raise Forbidden(f"This token lacks the {needed} scope.")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def current_installation() -> Installation:
    raise_auth_error()
    installation = g.get("installation")
    if installation is None:
        if g.get("staff") is not None:
            raise Forbidden("This endpoint needs an installation token, not a staff login.")
        if g.get("auth_method") == "token":  # another valid kind of credential (a stele)
            raise Forbidden("This endpoint needs an installation token.")
        raise Unauthorized("Send the installation token as 'Authorization: Bearer <token>'.")
    return installation


def installation_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_installation()
        return view(*args, **kwargs)

    return wrapper
