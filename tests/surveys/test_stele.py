"""Stele votes (service level until the device API exists): idempotent per interaction,
cooldown per device."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cityapp.db import db, utcnow
from cityapp.errors import Conflict, TooManyRequests, ValidationError
from cityapp.surveys.models import Survey, SurveyBallot, SurveyOption
from cityapp.surveys.service import record_stele_vote
from tests.surveys.conftest import create_survey_with, t

POLL = [
    (
        "q",
        {
            "type": "single_choice",
            "title": t("Soll der Markt samstags länger öffnen?"),
            "options": [{"label": t("Ja")}, {"label": t("Nein")}],
        },
    )
]


@pytest.fixture
def poll(ctx):
    ref = create_survey_with(POLL, channels=["stele"])
    survey = db.session.get(Survey, ref.id)
    return survey, [db.session.get(SurveyOption, i) for i in ref.o["q"]]


def _ballots(survey):
    return db.session.scalar(
        select(func.count()).select_from(SurveyBallot).where(SurveyBallot.survey_id == survey.id)
    )


def test_repeated_interaction_is_idempotent(poll):
    survey, (yes, _no) = poll
    now = utcnow()
    ballot, created = record_stele_vote("device-1", survey, yes, "tap-1", now=now)
    assert created is True and ballot.channel == "stele"
    again, created_again = record_stele_vote("device-1", survey, yes, "tap-1", now=now)
    assert created_again is False and again.id == ballot.id
    # Even during the cooldown, a retry of the same interaction is answered, not refused.
    later, created_later = record_stele_vote(
        "device-1", survey, yes, "tap-1", now=now + timedelta(seconds=1)
    )
    assert created_later is False and later.id == ballot.id
    assert _ballots(survey) == 1
    assert survey.ballot_count == 1
    assert "device-1" not in ballot.participant_key


def test_cooldown_per_device(app, poll):
    survey, (yes, no) = poll
    now = utcnow()
    cooldown = app.config["CITYAPP_STELE_VOTE_COOLDOWN_S"]
    record_stele_vote("device-1", survey, yes, "tap-1", now=now)
    with pytest.raises(TooManyRequests) as refused:
        record_stele_vote("device-1", survey, no, "tap-2", now=now + timedelta(seconds=1))
    assert 1 <= int(refused.value.headers["Retry-After"]) <= cooldown
    # Another stele is not affected.
    _ballot, created = record_stele_vote("device-2", survey, no, "tap-1", now=now)
    assert created is True
    # After the cooldown the first stele votes again.
    _ballot, created = record_stele_vote(
        "device-1", survey, no, "tap-3", now=now + timedelta(seconds=cooldown + 1)
    )
    assert created is True
    assert _ballots(survey) == 3


def test_cooldown_is_configurable(app, poll, monkeypatch):
    survey, (yes, _no) = poll
    monkeypatch.setitem(app.config, "CITYAPP_STELE_VOTE_COOLDOWN_S", 0)
    now = utcnow()
    for number in range(3):
        record_stele_vote("device-1", survey, yes, f"tap-{number}", now=now)
    assert _ballots(survey) == 3


def test_stele_votes_need_an_open_stele_poll(ctx, poll):
    survey, (yes, _no) = poll
    app_survey = db.session.get(Survey, create_survey_with(POLL).id)
    with pytest.raises(Conflict):
        record_stele_vote("device-1", app_survey, app_survey.questions[0].options[0], "tap-1")
    other_poll = db.session.get(Survey, create_survey_with(POLL, channels=["stele"]).id)
    with pytest.raises(ValidationError):
        record_stele_vote("device-1", survey, other_poll.questions[0].options[0], "tap-1")
    with pytest.raises(ValidationError):
        record_stele_vote("device-1", survey, yes, "")
    survey.closes_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(Conflict):
        record_stele_vote("device-1", survey, yes, "tap-1")
    assert _ballots(survey) == 0
