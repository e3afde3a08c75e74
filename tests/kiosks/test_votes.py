"""Stele votes: only for polls on the device's manifest; 201 new, 200 repeat, cooldown."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from cityapp.auth.service.actors import CLI
from cityapp.db import db, utcnow
from cityapp.surveys.models import Survey, SurveyBallot
from tests.conftest import assert_problem
from tests.kiosks.conftest import stele_poll

URL = "/api/device/v1/votes"


def _ballots(app, survey_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(SurveyBallot.id)).where(SurveyBallot.survey_id == survey_id)
        )


def test_a_tap_is_recorded_once_per_interaction(app, pair):
    device = pair()
    with app.app_context():
        poll = stele_poll()
    vote = {"survey_id": poll.id, "option_id": poll.o["q"][0], "interaction_id": "tap-1"}
    first = device.client.post(URL, json=vote)
    assert first.status_code == 201, first.get_json()
    assert first.get_json() == {"survey_id": poll.id, "option_id": poll.o["q"][0], "recorded": True}
    repeat = device.client.post(URL, json=vote)
    assert repeat.status_code == 200 and repeat.get_json()["recorded"] is True
    assert _ballots(app, poll.id) == 1
    too_soon = device.client.post(URL, json={**vote, "interaction_id": "tap-2"})
    assert_problem(too_soon, 429)
    assert "Retry-After" in too_soon.headers
    assert _ballots(app, poll.id) == 1


def test_votes_for_polls_not_on_the_manifest_are_refused(app, pair, districts):
    device = pair(district_id=districts["altstadt"])
    with app.app_context():
        elsewhere = stele_poll(district_ids=[districts["oberdorf"]])
        app_only = stele_poll(channels=["app"])
        closed = stele_poll()
        from cityapp.surveys.service import close_survey

        close_survey(CLI, db.session.get(Survey, closed.id))
        db.session.commit()
    for poll in (elsewhere, app_only, closed):
        response = device.client.post(
            URL, json={"survey_id": poll.id, "option_id": poll.o["q"][0], "interaction_id": "t"}
        )
        assert_problem(response, 404, field="survey_id")
        assert _ballots(app, poll.id) == 0
    assert_problem(
        device.client.post(URL, json={"survey_id": 9999, "option_id": 1, "interaction_id": "t"}),
        404,
    )


def test_a_poll_announced_ahead_takes_no_votes_yet(app, pair):
    device = pair()
    with app.app_context():
        upcoming = stele_poll(opens_at=utcnow() + timedelta(hours=2))
    manifest = device.client.get("/api/device/v1/manifest").get_json()
    assert [i["id"] for i in manifest["items"]] == [f"poll:{upcoming.id}"]
    response = device.client.post(
        URL, json={"survey_id": upcoming.id, "option_id": upcoming.o["q"][0], "interaction_id": "t"}
    )
    assert_problem(response, 409)


def test_bad_vote_input(app, pair, client):
    device = pair()
    with app.app_context():
        poll = stele_poll()
        other = stele_poll(title={"de": "Andere"})
    base = {"survey_id": poll.id, "option_id": poll.o["q"][0], "interaction_id": "t"}
    assert_problem(
        device.client.post(URL, json={**base, "option_id": other.o["q"][0]}), 422, field="option_id"
    )
    assert_problem(device.client.post(URL, json={**base, "extra": 1}), 422, field="extra")
    assert_problem(device.client.post(URL, json={**base, "interaction_id": ""}), 422)
    assert_problem(client.post(URL, json=base), 401)
    assert _ballots(app, poll.id) == 0
