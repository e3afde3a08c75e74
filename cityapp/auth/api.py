"""Auth API: login sessions, staff accounts, API tokens, installations, audit log."""

from __future__ import annotations

from flask import g, url_for
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from cityapp.auth.models import ApiToken, AuditEntry, Role, StaffUser
from cityapp.auth.permissions import (
    current_installation,
    current_staff,
    end_session,
    installation_required,
    login_rate_limit,
    staff_required,
    start_session,
)
from cityapp.auth.schemas import (
    ApiTokenCreatedSchema,
    ApiTokenInputSchema,
    ApiTokenPageSchema,
    ApiTokenSchema,
    AuditEntrySchema,
    AuditPageSchema,
    AuditQuerySchema,
    CsrfSchema,
    InstallationCreatedSchema,
    LoginInputSchema,
    SessionSchema,
    StaffInputSchema,
    StaffPageSchema,
    StaffQuerySchema,
    StaffSchema,
    StaffUpdateSchema,
)
from cityapp.auth.service import installations
from cityapp.auth.service.audit import audit_query
from cityapp.auth.service.login import (
    attempt_login,
    record_logout,
    record_logout_everywhere,
)
from cityapp.auth.service.staff import (
    create_staff_user,
    get_staff_user,
    staff_query,
    update_staff_user,
)
from cityapp.auth.service.tokens import (
    can_manage_token,
    create_api_token,
    get_api_token,
    revoke_api_token,
    token_query,
)
from cityapp.db import db
from cityapp.errors import Forbidden, TooManyRequests, Unauthorized
from cityapp.extensions import limiter
from cityapp.http.conditional import check_if_match, conditional_json, make_etag
from cityapp.http.pagination import PaginationQuerySchema, page_response, paginate

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Staff auth, tokens, audit")


def _installation_limit() -> str:
    from flask import current_app

    return current_app.config["CITYAPP_INSTALLATION_RATE_LIMIT"]


def staff_etag(user: StaffUser) -> str:
    return make_etag("staff", user.id, user.updated_at)


# --- sessions ----------------------------------------------------------------------------


@blp.post("/auth/login")
@login_rate_limit
@blp.arguments(LoginInputSchema)
@blp.response(200, SessionSchema)
@blp.alt_response(401, description="Wrong email or password (deliberately not saying which).")
@blp.alt_response(429, description="Too many attempts; see Retry-After.")
def login(data):
    """Log in with email and password; sets the staff session cookie."""
    result = attempt_login(data["email"], data["password"])
    db.session.commit()
    if result.locked:
        raise TooManyRequests(
            "Too many failed logins; wait and try again.", retry_after=result.retry_after_s
        )
    if result.user is None:
        raise Unauthorized("Wrong email or password.", scheme="Session")
    start_session(result.user)
    return {"user": result.user, "csrf_token": generate_csrf()}


@blp.post("/auth/logout")
@blp.response(204)
def logout():
    """End this staff session, every copy of its cookie (needs the CSRF token). Other
    sessions of the account go on; see ``/auth/logout-everywhere``."""
    staff = g.get("staff")
    session_id = end_session()
    if staff is not None and g.get("auth_method") == "session":
        record_logout(staff, session_id)
        db.session.commit()


@blp.post("/auth/logout-everywhere")
@staff_required()
@blp.response(204)
def logout_everywhere():
    """End every session of your account, in every browser (a session needs the CSRF token).
    API tokens stay valid; revoke them under ``/staff/tokens``."""
    staff = current_staff()
    record_logout_everywhere(staff)
    db.session.commit()
    if g.get("auth_method") == "session":
        end_session()


@blp.get("/auth/me")
@staff_required()
@blp.response(200, StaffSchema)
def me():
    """The staff account behind this session or token."""
    return current_staff()


@blp.get("/auth/csrf")
@blp.response(200, CsrfSchema)
def csrf_token():
    """A CSRF token for cookie-authenticated writes (send it as X-CSRF-Token)."""
    return {"csrf_token": generate_csrf()}


# --- staff accounts (admin) --------------------------------------------------------------


@blp.get("/staff/users")
@staff_required(Role.ADMIN)
@blp.arguments(StaffQuerySchema, location="query")
@blp.response(200, StaffPageSchema)
def list_staff(args):
    """List staff accounts (admin)."""
    limit, cursor = args.pop("limit"), args.pop("cursor")
    query = staff_query(**args)
    page = paginate(db.session, query, [(StaffUser.id, "asc")], limit=limit, cursor=cursor)
    return page_response(page, StaffSchema())


@blp.post("/staff/users")
@staff_required(Role.ADMIN)
@blp.arguments(StaffInputSchema)
@blp.response(201, StaffSchema)
def create_staff(data):
    """Create a staff account (admin)."""
    user = create_staff_user(current_staff(), **data)
    db.session.commit()
    return (
        user,
        201,
        {"Location": url_for("auth.get_staff", user_id=user.id), "ETag": staff_etag(user)},
    )


@blp.get("/staff/users/<int:user_id>")
@staff_required(Role.ADMIN)
@blp.response(200, StaffSchema)
@blp.alt_response(304, description="Not modified (If-None-Match matched the ETag).")
def get_staff(user_id):
    """One staff account (admin)."""
    user = get_staff_user(user_id)
    return conditional_json(
        staff_etag(user), lambda: StaffSchema().dump(user), cache_control="private, no-cache"
    )


@blp.patch("/staff/users/<int:user_id>")
@staff_required(Role.ADMIN)
@blp.arguments(StaffUpdateSchema)
@blp.response(200, StaffSchema)
@blp.alt_response(412, description="If-Match did not match the current ETag.")
def update_staff(data, user_id):
    """Change role, name, active flag or password of a staff account (admin; If-Match)."""
    user = get_staff_user(user_id)
    check_if_match(staff_etag(user))
    update_staff_user(current_staff(), user, **data)
    db.session.commit()
    return user, 200, {"ETag": staff_etag(user)}


# --- API tokens --------------------------------------------------------------------------


@blp.get("/staff/tokens")
@staff_required()
@blp.arguments(PaginationQuerySchema, location="query")
@blp.response(200, ApiTokenPageSchema)
def list_tokens(args):
    """Your API tokens (admins see everyone's)."""
    query = token_query(current_staff())
    page = paginate(
        db.session, query, [(ApiToken.id, "desc")], limit=args["limit"], cursor=args["cursor"]
    )
    return page_response(page, ApiTokenSchema())


@blp.post("/staff/tokens")
@staff_required()
@blp.arguments(ApiTokenInputSchema)
@blp.response(201, ApiTokenCreatedSchema)
def create_token(data):
    """Create an API token for yourself (browser session only); the secret is shown once."""
    staff = current_staff()
    if g.get("auth_method") != "session":
        # Otherwise a leaked token could mint successors that outlive its revocation.
        raise Forbidden("API tokens are created from a logged-in browser session, not a token.")
    token, plaintext = create_api_token(staff, staff, **data)
    db.session.commit()
    token.plaintext = plaintext  # transient: dumped once, never stored
    return token, 201, {"Location": url_for("auth.get_token", token_id=token.id)}


@blp.get("/staff/tokens/<int:token_id>")
@staff_required()
@blp.response(200, ApiTokenSchema)
def get_token(token_id):
    """One API token (without its secret)."""
    token = get_api_token(token_id)
    if not can_manage_token(current_staff(), token):
        raise Forbidden("Not your token.")
    return token


@blp.delete("/staff/tokens/<int:token_id>")
@staff_required()
@blp.response(204)
def revoke_token(token_id):
    """Revoke an API token; it stops working at once."""
    token = get_api_token(token_id)
    staff = current_staff()
    if not can_manage_token(staff, token):
        raise Forbidden("Not your token.")
    revoke_api_token(staff, token)
    db.session.commit()


# --- installations -----------------------------------------------------------------------


@blp.post("/installations")
@limiter.limit(_installation_limit)
@blp.response(201, InstallationCreatedSchema)
def create_installation():
    """Register an install of the city app; returns its bearer token once. No personal data."""
    installation, plaintext = installations.create_installation()
    db.session.commit()
    return {"token": plaintext, "created_at": installation.created_at}


@blp.delete("/installations/me")
@installation_required
@blp.response(204)
def delete_installation():
    """Forget this installation and its token."""
    installations.delete_installation(current_installation())
    db.session.commit()


# --- audit log ---------------------------------------------------------------------------


@blp.get("/staff/audit")
@staff_required(Role.ADMIN)
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditPageSchema)
def list_audit(args):
    """The audit log, newest first, filterable by actor, action, object and time (admin)."""
    limit, cursor = args.pop("limit"), args.pop("cursor")
    query = audit_query(**args)
    order = [(AuditEntry.created_at, "desc"), (AuditEntry.id, "desc")]
    page = paginate(db.session, query, order, limit=limit, cursor=cursor)
    return page_response(page, AuditEntrySchema())
