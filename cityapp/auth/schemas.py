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

    id = fields.Integer(dump_only=True, metadata={"example": 3})
    email = fields.Email(metadata={"example": "redaktion@musterstadt.example"})
    display_name = fields.String(metadata={"example": "Erika Mustermann"})
    role = fields.String(metadata={"enum": _ROLES, "example": "editor"})
    is_active = fields.Boolean(metadata={"example": True})
    last_login_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()


class SessionSchema(Schema):
    """Reply to a successful login: who you are and the CSRF token for later writes."""

    user = fields.Nested(StaffSchema)
    csrf_token = fields.String(
        metadata={
            "description": "Send as X-CSRF-Token on writes.",
            "example": "Jx7QmZp2rVb9nK4sT1wYc8dE5fG3hL6a",
        }
    )


class CsrfSchema(Schema):
    csrf_token = fields.String(metadata={"example": "Jx7QmZp2rVb9nK4sT1wYc8dE5fG3hL6a"})


class StaffInputSchema(Schema):
    email = fields.Email(
        required=True,
        validate=validate.Length(max=254),
        metadata={"example": "m.mueller@musterstadt.example"},
    )
    display_name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=120),
        metadata={"example": "Max Müller"},
    )
    role = fields.String(
        required=True, validate=validate.OneOf(_ROLES), metadata={"example": "moderator"}
    )
    password = fields.String(
        load_default=None,
        load_only=True,
        validate=validate.Length(min=10, max=1024),
        metadata={
            "description": "Optional; without it the account cannot log in yet.",
            "example": "Rathaus-Altstadt-2026",
        },
    )


class StaffUpdateSchema(Schema):
    display_name = fields.String(
        validate=validate.Length(min=1, max=120), metadata={"example": "Max Müller"}
    )
    role = fields.String(validate=validate.OneOf(_ROLES), metadata={"example": "editor"})
    is_active = fields.Boolean(metadata={"example": False})
    password = fields.String(
        load_only=True,
        validate=validate.Length(min=10, max=1024),
        metadata={"example": "Rathaus-Oberdorf-2026"},
    )


class StaffQuerySchema(PaginationQuerySchema):
    role = fields.String(validate=validate.OneOf(_ROLES))
    is_active = fields.Boolean()


class StaffPageSchema(PageSchema):
    items = fields.List(fields.Nested(StaffSchema))


class ApiTokenSchema(Schema):
    """A staff API token as listed: never the secret itself."""

    id = fields.Integer(metadata={"example": 5})
    name = fields.String(metadata={"example": "Open311 bridge"})
    prefix = fields.String(
        metadata={"description": "First characters, to recognise it.", "example": "cat_EXAMPL"}
    )
    scopes = fields.List(fields.String(metadata={"enum": _SCOPES}), metadata={"example": ["read"]})
    owner_id = fields.Integer(metadata={"example": 3})
    created_at = UTCDateTime()
    expires_at = UTCDateTime(allow_none=True)
    revoked_at = UTCDateTime(allow_none=True)
    last_used_at = UTCDateTime(allow_none=True)


class ApiTokenCreatedSchema(ApiTokenSchema):
    token = fields.String(
        attribute="plaintext",
        metadata={
            "description": "The secret. Shown exactly once; store it now.",
            "example": "cat_EXAMPLE-not-a-real-token-0000000000000",
        },
    )


class ApiTokenInputSchema(Schema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=120),
        metadata={"example": "Open311 bridge"},
    )
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
        metadata={
            "description": "Bearer token of this installation, shown exactly once.",
            "example": "cai_EXAMPLE-not-a-real-token-0000000000000",
        }
    )
    created_at = UTCDateTime()


class AuditEntrySchema(Schema):
    id = fields.Integer(metadata={"example": 128})
    created_at = UTCDateTime()
    actor_id = fields.Integer(allow_none=True, metadata={"example": 3})
    actor_label = fields.String(metadata={"example": "staff:3"})
    action = fields.String(metadata={"example": "token.create"})
    object_type = fields.String(allow_none=True, metadata={"example": "api_token"})
    object_id = fields.String(allow_none=True, metadata={"example": "5"})
    summary = fields.String(metadata={"example": "token 'Open311 bridge' for staff:3 scopes=read"})
    changes = fields.Dict(
        allow_none=True, metadata={"example": {"name": "Open311 bridge", "scopes": ["read"]}}
    )
    request_id = fields.String(
        allow_none=True, metadata={"example": "3f2b8c1d9e4a4f6b8a7c5d2e1f0a9b8c"}
    )


class AuditQuerySchema(PaginationQuerySchema):
    actor_id = fields.Integer()
    action = fields.String(validate=validate.Length(max=64))
    object_type = fields.String(validate=validate.Length(max=64))
    object_id = fields.String(validate=validate.Length(max=64))
    since = UTCDateTime()
    until = UTCDateTime()


class AuditPageSchema(PageSchema):
    items = fields.List(fields.Nested(AuditEntrySchema))
