"""Marshmallow schemas for the auth API: one per audience and direction."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.auth.models import Role, TokenScope
from cityapp.fields import Id, Text, UTCDateTime
from cityapp.http.pagination import PageSchema, PaginationQuerySchema

_ROLES = [r.value for r in Role]
_SCOPES = [s.value for s in TokenScope]


class LoginInputSchema(Schema):
    email = fields.Email(
        required=True,
        validate=validate.Length(max=254),
        metadata={"example": "admin@musterstadt.example"},
    )
    password = Text(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=1024),
        metadata={"example": "correct horse battery staple"},
    )


class StaffSchema(Schema):
    """A staff account as staff see it."""

    id = Id(dump_only=True, metadata={"example": 3})
    email = fields.Email(metadata={"example": "redaktion@musterstadt.example"})
    display_name = Text(metadata={"example": "Erika Mustermann"})
    role = Text(metadata={"enum": _ROLES, "example": "editor"})
    is_active = fields.Boolean(metadata={"example": True})
    last_login_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()


class SessionSchema(Schema):
    """Reply to a successful login: who you are and the CSRF token for later writes."""

    user = fields.Nested(StaffSchema)
    csrf_token = Text(
        metadata={
            "description": "Send as X-CSRF-Token on writes.",
            "example": "Jx7QmZp2rVb9nK4sT1wYc8dE5fG3hL6a",
        }
    )


class CsrfSchema(Schema):
    csrf_token = Text(metadata={"example": "Jx7QmZp2rVb9nK4sT1wYc8dE5fG3hL6a"})


class StaffInputSchema(Schema):
    email = fields.Email(
        required=True,
        validate=validate.Length(max=254),
        metadata={"example": "m.mueller@musterstadt.example"},
    )
    display_name = Text(
        required=True,
        validate=validate.Length(min=1, max=120),
        metadata={"example": "Max Müller"},
    )
    role = Text(required=True, validate=validate.OneOf(_ROLES), metadata={"example": "moderator"})
    password = Text(
        load_default=None,
        load_only=True,
        validate=validate.Length(min=10, max=1024),
        metadata={
            "description": "Optional; without it the account cannot log in yet.",
            "example": "Rathaus-Altstadt-2026",
        },
    )


class StaffUpdateSchema(Schema):
    display_name = Text(
        validate=validate.Length(min=1, max=120), metadata={"example": "Max Müller"}
    )
    role = Text(validate=validate.OneOf(_ROLES), metadata={"example": "editor"})
    is_active = fields.Boolean(metadata={"example": False})
    password = Text(
        load_only=True,
        validate=validate.Length(min=10, max=1024),
        metadata={"example": "Rathaus-Oberdorf-2026"},
    )


class StaffQuerySchema(PaginationQuerySchema):
    role = Text(validate=validate.OneOf(_ROLES))
    is_active = fields.Boolean()


class StaffPageSchema(PageSchema):
    items = fields.List(fields.Nested(StaffSchema))


class ApiTokenSchema(Schema):
    """A staff API token as listed: never the secret itself."""

    id = Id(metadata={"example": 5})
    name = Text(metadata={"example": "Open311 bridge"})
    prefix = Text(
        metadata={"description": "First characters, to recognise it.", "example": "cat_EXAMPL"}
    )
    scopes = fields.List(Text(metadata={"enum": _SCOPES}), metadata={"example": ["read"]})
    owner_id = Id(metadata={"example": 3})
    created_at = UTCDateTime()
    expires_at = UTCDateTime(allow_none=True)
    revoked_at = UTCDateTime(allow_none=True)
    last_used_at = UTCDateTime(allow_none=True)


class ApiTokenCreatedSchema(ApiTokenSchema):
    token = Text(
        attribute="plaintext",
        metadata={
            "description": "The secret. Shown exactly once; store it now.",
            "example": "cat_EXAMPLE-not-a-real-token-0000000000000",
        },
    )


class ApiTokenInputSchema(Schema):
    name = Text(
        required=True,
        validate=validate.Length(min=1, max=120),
        metadata={"example": "Open311 bridge"},
    )
    scopes = fields.List(
        Text(validate=validate.OneOf(_SCOPES)),
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
    token = Text(
        metadata={
            "description": "Bearer token of this installation, shown exactly once.",
            "example": "cai_EXAMPLE-not-a-real-token-0000000000000",
        }
    )
    created_at = UTCDateTime()


class AuditEntrySchema(Schema):
    id = Id(metadata={"example": 128})
    created_at = UTCDateTime()
    actor_id = Id(allow_none=True, metadata={"example": 3})
    actor_label = Text(metadata={"example": "staff:3"})
    action = Text(metadata={"example": "token.create"})
    object_type = Text(allow_none=True, metadata={"example": "api_token"})
    object_id = Text(allow_none=True, metadata={"example": "5"})
    summary = Text(metadata={"example": "token 'Open311 bridge' for staff:3 scopes=read"})
    changes = fields.Dict(
        allow_none=True, metadata={"example": {"name": "Open311 bridge", "scopes": ["read"]}}
    )
    request_id = Text(allow_none=True, metadata={"example": "3f2b8c1d9e4a4f6b8a7c5d2e1f0a9b8c"})


class AuditQuerySchema(PaginationQuerySchema):
    actor_id = Id()
    action = Text(validate=validate.Length(max=64))
    object_type = Text(validate=validate.Length(max=64))
    object_id = Text(validate=validate.Length(max=64))
    since = UTCDateTime()
    until = UTCDateTime()


class AuditPageSchema(PageSchema):
    items = fields.List(fields.Nested(AuditEntrySchema))
