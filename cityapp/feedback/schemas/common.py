"""What the feedback schemas share: languages, enum values, OpenAPI examples, field factories."""

from __future__ import annotations

from marshmallow import fields, validate

from cityapp.feedback.models import ModerationState, RejectionReason, ReportStatus
from cityapp.fields import Float, Id, Text

LANGUAGES = ("de", "en", "de-x-ls")
STATUSES = [s.value for s in ReportStatus]
MODERATION_STATES = [m.value for m in ModerationState]
REJECTION_REASONS = [r.value for r in RejectionReason]
FLAG_REASONS = ("abusive", "personal_data", "spam", "wrong", "other")

# Example values for the OpenAPI document: one pothole report in the Altstadt.
REPORT_TEXT_EXAMPLE = "Tiefes Schlagloch in der Marktstraße vor Hausnummer 12."
ATTRIBUTES_EXAMPLE = {"gefahr": "ja", "groesse_cm": 40}
ADDRESS_EXAMPLE = "Marktstraße 12, Altstadt"
SHA256_EXAMPLE = "1a78c0cb812a9aae8f6e1158902349b75372c6fd57b7b127d697043a5592509c"
PHOTO_URL_EXAMPLE = f"https://app.musterstadt.example/media/{SHA256_EXAMPLE}"
STAFF_PHOTO_URL_EXAMPLE = "https://app.musterstadt.example/api/v1/staff/reports/42/photos/7"


def Translations(*, required: bool = False, example: dict | None = None, **kw):
    return fields.Dict(
        keys=Text(validate=validate.OneOf(LANGUAGES)),
        values=Text(allow_none=True),
        required=required,
        metadata={
            "description": "Keyed by language (de required).",
            "example": example or {"de": "Text"},
        },
        **kw,
    )


def OptionalText(
    example: str, *, max_length: int | None = None, description: str | None = None
) -> fields.String:
    """An input string that may be left out or null (then None), at most ``max_length``."""
    metadata = {"example": example}
    if description:
        metadata = {"description": description, **metadata}
    return Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=max_length) if max_length else None,
        metadata=metadata,
    )


class PlaceFields:
    """Where a report is, as every audience's output shows it (mixed into the schemas)."""

    lat = Float(allow_none=True, metadata={"example": 51.3105})
    lon = Float(allow_none=True, metadata={"example": 9.4502})
    address = Text(allow_none=True, metadata={"example": ADDRESS_EXAMPLE})
    district_id = Id(allow_none=True, metadata={"example": 1})
