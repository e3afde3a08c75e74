"""Marshmallow schemas for the auth API: one per audience and direction."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.auth.models import Role, TokenScope
from cityapp.http import PageSchema, PaginationQuerySchema, UTCDateTime

_ROLES = [r.value for r in Role]
_SCOPES = [s.value for s in TokenScope]


class LoginInputSchema(Schema):
    email = fields.Email(
        required=True,
        validate=validate.Length(max=254),
        metadata={"example": "admin@musterstadt.example"},
    )
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=1024),
        metadata={"example": "correct horse battery staple"},
    )


class StaffSchema(Schema):
    """A staff account as staff see it."""

    id = fields.Integer(dump_only=True)
    email = fields.Email(metadata={"example": "redaktion@musterstadt.example"})
    display_name = fields.String(metadata={"example": "Erika Mustermann"})
    role = fields.String(metadata={"enum": _ROLES, "example": "editor"})
    is_active = fields.Boolean()
    last_login_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()


class SessionSchema(Schema):
    """Reply to a successful login: who you are and the CSRF token for later writes."""

    user = fields.Nested(StaffSchema)
    csrf_token = fields.String(metadata={"description": "Send as X-CSRF-Token on writes."})


class CsrfSchema(Schema):
    csrf_token = fields.String()


class StaffInputSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    role = fields.String(required=True, validate=validate.OneOf(_ROLES))
    password = fields.String(
        load_default=None,
        load_only=True,
        validate=validate.Length(min=10, max=1024),
        metadata={"description": "Optional; without it the account cannot log in yet."},
    )


class StaffUpdateSchema(Schema):
    display_name = fields.String(validate=validate.Length(min=1, max=120))
    role = fields.String(validate=validate.OneOf(_ROLES))
    is_active = fields.Boolean()
    password = fields.String(load_only=True, validate=validate.Length(min=10, max=1024))


class StaffQuerySchema(PaginationQuerySchema):
    role = fields.String(validate=validate.OneOf(_ROLES))
    is_active = fields.Boolean()


class StaffPageSchema(PageSchema):
    items = fields.List(fields.Nested(StaffSchema))


class ApiTokenSchema(Schema):
    """A staff API token as listed: never the secret itself."""

    id = fields.Integer()
    name = fields.String(metadata={"example": "Open311 bridge"})
    prefix = fields.String(metadata={"description": "First characters, to recognise it."})
    scopes = fields.List(fields.String(metadata={"enum": _SCOPES}))
    owner_id = fields.Integer()
    created_at = UTCDateTime()
    expires_at = UTCDateTime(allow_none=True)
    revoked_at = UTCDateTime(allow_none=True)
    last_used_at = UTCDateTime(allow_none=True)


class ApiTokenCreatedSchema(ApiTokenSchema):
    token = fields.String(
        attribute="plaintext",
        metadata={"description": "The secret. Shown exactly once; store it now."},
    )


class ApiTokenInputSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    scopes = fields.List(
        fields.String(validate=validate.OneOf(_SCOPES)),
        load_default=lambda: ["read"],
        validate=validate.Length(min=1, max=2),
        metadata={"example": ["read", "write"]},
    )
    expires_at = UTCDateTime(
        load_default=None,
        metadata={"description": "Default and maximum: CITYAPP_TOKEN_MAX_DAYS from now."},
    )


class ApiTokenPageSchema(PageSchema):
    items = fields.List(fields.Nested(ApiTokenSchema))


class InstallationCreatedSchema(Schema):
    token = fields.String(
        metadata={"description": "Bearer token of this installation, shown exactly once."}
    )
    created_at = UTCDateTime()


class AuditEntrySchema(Schema):
    id = fields.Integer()
    created_at = UTCDateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_label = fields.String(metadata={"example": "staff:3"})
    action = fields.String(metadata={"example": "token.create"})
    object_type = fields.String(allow_none=True)
    object_id = fields.String(allow_none=True)
    summary = fields.String()
    changes = fields.Dict(allow_none=True)
    request_id = fields.String(allow_none=True)


class AuditQuerySchema(PaginationQuerySchema):
    actor_id = fields.Integer()
    action = fields.String(validate=validate.Length(max=64))
    object_type = fields.String(validate=validate.Length(max=64))
    object_id = fields.String(validate=validate.Length(max=64))
    since = UTCDateTime()
    until = UTCDateTime()


class AuditPageSchema(PageSchema):
    items = fields.List(fields.Nested(AuditEntrySchema))
