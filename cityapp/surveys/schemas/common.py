"""Shared pieces of the survey schemas: enum value lists and the Translation field."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import ValidationError, fields

from cityapp.fields import Text
from cityapp.surveys.models import (
    Channel,
    QuestionType,
    ResubmissionPolicy,
    ResultsVisibility,
    SurveyStatus,
)

CHANNELS = [c.value for c in Channel]
TYPES = [t.value for t in QuestionType]
VISIBILITY = [v.value for v in ResultsVisibility]
RESUBMISSION = [r.value for r in ResubmissionPolicy]
STATUSES = [s.value for s in SurveyStatus]


class Translation(fields.Dict):
    """Texts keyed by language ({"de": ..., "en": ...}); German is required."""

    def __init__(self, *, max_length: int = 500, **kwargs: Any) -> None:
        self.max_length = max_length
        kwargs.setdefault("metadata", {}).setdefault(
            "example", {"de": "Wie zufrieden sind Sie?", "en": "How satisfied are you?"}
        )
        super().__init__(keys=Text(), values=Text(), **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[str, str]:
        result = super()._deserialize(value, attr, data, **kwargs)
        languages = set(current_app.config["CITYAPP_LANGUAGES"])
        unknown = sorted(set(result) - languages)
        if unknown:
            raise ValidationError(f"Unknown languages {unknown}; use {sorted(languages)}.")
        cleaned = {lang: text.strip() for lang, text in result.items() if text.strip()}
        if not cleaned.get("de"):
            raise ValidationError("A German text (de) is required.")
        too_long = [lang for lang, text in cleaned.items() if len(text) > self.max_length]
        if too_long:
            raise ValidationError(f"At most {self.max_length} characters ({', '.join(too_long)}).")
        return cleaned
