"""Stele votes: only for polls on the device's manifest, recorded by the surveys domain
(idempotent per interaction, per-device cooldown)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from cityapp.db import db
from cityapp.errors import NotFound, ValidationError
from cityapp.kiosks.models import Device
from cityapp.kiosks.service.sources import SourceContext, polls_query, stele_poll
from cityapp.surveys.models import Survey, SurveyOption
from cityapp.surveys.service.stele import record_stele_vote


def cast_vote(
    device: Device, survey_id: int, option_id: int, interaction_id: str, now: datetime
) -> bool:
    """Record one tap; True when new, False for a repeated interaction."""
    horizon = now + timedelta(hours=current_app.config["CITYAPP_KIOSK_LOOKAHEAD_H"])
    ctx = SourceContext(device=device, now=now, horizon=horizon)
    # The same query that puts polls on this device's manifest: a poll for another district,
    # a closed one or a plain survey is not on it.
    survey = db.session.scalar(polls_query(ctx).where(Survey.id == survey_id))
    if survey is None or stele_poll(survey) is None:
        raise NotFound(
            "This poll is not on this stele's manifest.",
            errors={"survey_id": ["Not a poll of this stele."]},
        )
    option = db.session.get(SurveyOption, option_id)
    if option is None or option.question_id != stele_poll(survey).id or option.is_other:
        raise ValidationError(errors={"option_id": ["Not an option of this poll."]})
    _ballot, created = record_stele_vote(str(device.id), survey, option, interaction_id, now=now)
    return created
