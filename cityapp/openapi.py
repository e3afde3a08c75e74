"""OpenAPI document details: the problem+json error schema and security schemes."""

from __future__ import annotations

from marshmallow import Schema, fields


class ProblemSchema(Schema):
    """RFC 9457 problem details, the body of every /api/* error."""

    type = fields.String(metadata={"example": "https://cityapp.example/problems/validation-error"})
    title = fields.String(metadata={"example": "Validation failed"})
    status = fields.Integer(metadata={"example": 422})
    detail = fields.String(metadata={"example": "The request did not validate; see errors."})
    errors = fields.Dict(
        keys=fields.String(),
        metadata={
            "description": "Field name -> list of messages (validation errors only).",
            "example": {"email": ["Not a valid email address."]},
        },
    )
    request_id = fields.String(
        metadata={
            "description": "Same as the X-Request-ID header.",
            "example": "3f2b8c1d9e4a4f6b8a7c5d2e1f0a9b8c",
        }
    )
    error_id = fields.String(
        metadata={
            "description": "On 500 only: quote it when reporting.",
            "example": "9c1e4b7a2d3f4e5a8b6c7d0e1f2a3b4c",
        }
    )


API_DESCRIPTION = """\
The JSON API of cityapp. Conventions (see docs/api.md): JSON bodies (unknown fields are rejected
with 422), UTC datetimes with `Z`, cursor pagination (`limit`, `cursor`, `next_cursor`, `Link`),
strong ETags with `If-None-Match` / `If-Match`, languages via `?lang=` or `Accept-Language`,
and RFC 9457 `application/problem+json` for every error. Every response has an `X-Request-ID`.
"""

SPEC_OPTIONS = {
    "info": {"description": API_DESCRIPTION},
    "components": {
        "securitySchemes": {
            "staffToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "Staff API token (cat_...), scopes read/write.",
            },
            "installationToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "App installation token (cai_...).",
            },
            "deviceSecret": {
                "type": "http",
                "scheme": "bearer",
                "description": "Stele device secret (cad_...), handed out once at pairing.",
            },
            "staffSession": {
                "type": "apiKey",
                "in": "cookie",
                "name": "cityapp_session",
                "description": "Browser session; writes also need the X-CSRF-Token header.",
            },
        }
    },
}
