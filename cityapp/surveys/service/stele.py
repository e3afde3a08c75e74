"""Stele votes: one tap on a stele poll, idempotent per interaction, with a per-device
cooldown. The kiosks domain calls this from its device API (kiosks/service/votes.py), passing
the device id as an opaque key; surveys stores only an HMAC of it."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cityapp.db import db, utcnow
from cityapp.errors import Conflict, TooManyRequests, ValidationError
from cityapp.surveys.models import (
    Channel,
    QuestionType,
    Survey,
    SurveyBallot,
    SurveyDeviceState,
    SurveyOption,
)
from cityapp.surveys.service.ballots import (
    ballot_secret,
    ensure_open,
    find_ballot,
    participant_key,
    submit_ballot,
)


def _device_hash(device_key: str) -> str:
    return hmac.new(ballot_secret(), f"device:{device_key}".encode(), hashlib.sha256).hexdigest()


def record_stele_vote(
    device_key: str,
    survey: Survey,
    option: SurveyOption,
    interaction_id: str,
    *,
    now: datetime | None = None,
) -> tuple[SurveyBallot, bool]:
    """One tap on a stele poll: idempotent per (device, poll, interaction id) and limited by a
    per-device cooldown. Returns (ballot, created); a repeated interaction returns the first.

    ``device_key`` is opaque here (the kiosk device's id): surveys does not import kiosks.
    """
    now = now or utcnow()
    if not device_key or not interaction_id or len(interaction_id) > 100:
        raise ValidationError(errors={"interaction_id": ["Give an interaction id (≤ 100)."]})
    ensure_open(survey, now, Channel.STELE)
    question = survey.questions[0] if len(survey.questions) == 1 else None
    if question is None or question.type != QuestionType.SINGLE_CHOICE:
        raise Conflict("This survey is not a stele poll.")
    if option.question_id != question.id:
        raise ValidationError(errors={"option_id": ["Not an option of this poll."]})
    key = participant_key(survey.id, f"stele:{device_key}:{interaction_id}")
    existing = find_ballot(survey, key)
    if existing is not None:
        return existing, False
    device_hash = _device_hash(device_key)
    state = db.session.scalar(
        select(SurveyDeviceState)
        .where(
            SurveyDeviceState.survey_id == survey.id, SurveyDeviceState.device_hash == device_hash
        )
        .with_for_update()
    )
    cooldown = timedelta(seconds=current_app.config["CITYAPP_STELE_VOTE_COOLDOWN_S"])
    too_soon = TooManyRequests(
        "This stele voted a moment ago; the next vote is possible shortly.",
        retry_after=int(cooldown.total_seconds()) + 1,
    )
    if state is not None and state.last_vote_at + cooldown > now:
        wait = (state.last_vote_at + cooldown - now).total_seconds()
        too_soon.headers["Retry-After"] = str(int(wait) + 1)
        raise too_soon
    if state is None:
        state = SurveyDeviceState(survey_id=survey.id, device_hash=device_hash, last_vote_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(state)
                db.session.flush()
        except IntegrityError:
            raise too_soon from None  # the same stele's other tap got there first
    state.last_vote_at = now
    ballot, _created = submit_ballot(
        survey,
        key,
        [{"question_id": question.id, "option_id": option.id}],
        channel=Channel.STELE,
        now=now,
    )
    return ballot, True
