"""Participation: answer validation per question type, conditions, the one-ballot rule, the
participant key, bad input, my-ballot and the rate limit."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select, text

from cityapp.auth.models import Installation
from cityapp.db import db, utcnow
from cityapp.surveys.models import Survey, SurveyAnswer, SurveyBallot
from tests.conftest import assert_problem
from tests.surveys.conftest import t


def _post(api, ref, answers, **extra):
    return api.post(f"/api/v1/surveys/{ref.id}/ballots", json={"answers": answers, **extra})


def _counts(app, survey_id):
    with app.app_context():
        ballots = db.session.scalar(
            select(func.count())
            .select_from(SurveyBallot)
            .where(SurveyBallot.survey_id == survey_id)
        )
        answers = db.session.scalar(
            select(func.count())
            .select_from(SurveyAnswer)
            .where(SurveyAnswer.survey_id == survey_id)
        )
        return ballots, answers


def test_full_ballot_is_stored_normalised(app, make_survey, installation_client, districts):
    ref = make_survey()
    response = _post(installation_client, ref, ref.full_ballot(), district_id=districts["altstadt"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["survey_id"] == ref.id and body["district_id"] == districts["altstadt"]
    assert body["channel"] == "app"
    assert response.headers["Location"].endswith(f"/api/v1/surveys/{ref.id}/my-ballot")
    answers = {a["question_id"]: a for a in body["answers"]}
    assert answers[ref.q["multi"]]["option_ids"] == ref.o["multi"][:2]
    assert answers[ref.q["yes"]]["value"] is True
    assert answers[ref.q["rank"]]["ranking"] == ref.o["rank"]
    assert answers[ref.q["details"]]["text"] == "Die Wiese"
    # single 1 + multi 2 + scale 1 + yes 1 + details 1 + ranking 3 + comment 1 rows
    assert _counts(app, ref.id) == (1, 10)
    with app.app_context():
        assert db.session.get(Survey, ref.id).ballot_count == 1
        statuses = db.session.scalars(
            select(SurveyAnswer.moderation_status).where(SurveyAnswer.text.is_not(None))
        ).all()
        assert statuses == ["pending", "pending"]


def _bad_ballots(ref):
    q, o = ref.q, ref.o
    return [
        ("single", {"question_id": q["single"], "option_id": o["multi"][0]}),  # unknown option
        ("single", {"question_id": q["single"], "option_id": "1"}),  # not an integer
        ("single", {"question_id": q["single"], "option_ids": [o["single"][0]]}),  # wrong key
        ("single", {"question_id": q["single"], "option_id": o["single"][0], "other_text": "x"}),
        (
            "single",
            {"question_id": q["single"], "option_id": o["single"][2], "other_text": "x" * 201},
        ),
        ("multi", {"question_id": q["multi"], "option_ids": o["multi"]}),  # too many (max 2)
        ("multi", {"question_id": q["multi"], "option_ids": []}),  # too few (min 1)
        ("multi", {"question_id": q["multi"], "option_ids": [o["multi"][0]] * 2}),  # twice
        ("multi", {"question_id": q["multi"], "option_ids": [o["single"][0]]}),  # unknown
        ("scale", {"question_id": q["scale"], "value": 6}),  # out of range
        ("scale", {"question_id": q["scale"], "value": 0}),
        ("scale", {"question_id": q["scale"], "value": 2.5}),
        ("scale", {"question_id": q["scale"], "value": True}),
        ("yes", {"question_id": q["yes"], "value": 1}),
        ("yes", {"question_id": q["yes"], "value": "yes"}),
        ("rank", {"question_id": q["rank"], "ranking": [o["rank"][0], o["rank"][0], o["rank"][1]]}),
        ("rank", {"question_id": q["rank"], "ranking": o["rank"][:2]}),  # incomplete
        ("rank", {"question_id": q["rank"], "ranking": [*o["rank"][:2], o["multi"][0]]}),
        ("comment", {"question_id": q["comment"], "text": "x" * 1001}),  # over the limit
        ("details", {"question_id": q["details"], "text": "x" * 301}),  # over its own limit
        ("comment", {"question_id": q["comment"], "value": 3}),
    ]


def test_each_bad_answer_gets_a_per_question_422_and_nothing_is_stored(
    app, make_survey, installation_client
):
    ref = make_survey()
    for key, answer in _bad_ballots(ref):
        response = _post(installation_client, ref, ref.full_ballot(**{key: answer}))
        body = assert_problem(response, 422)
        field = f"answers.{ref.q[key]}"
        # Schema-level type errors name "answers"; everything else names the question.
        assert list(body["errors"]) in ([field], ["answers"]), (key, answer, body)
    assert _counts(app, ref.id) == (0, 0)


def test_required_and_conditions(app, make_survey, installation_client):
    ref = make_survey()
    # Required single choice missing.
    body = assert_problem(_post(installation_client, ref, ref.full_ballot(single=None)), 422)
    assert body["errors"] == {f"answers.{ref.q['single']}": ["This question needs an answer."]}
    # "details" is required only when "yes" is true.
    body = assert_problem(_post(installation_client, ref, ref.full_ballot(details=None)), 422)
    assert list(body["errors"]) == [f"answers.{ref.q['details']}"]
    no = {"question_id": ref.q["yes"], "value": False}
    # Hidden by the condition: answering it is an error, leaving it out is fine.
    body = assert_problem(_post(installation_client, ref, ref.full_ballot(yes=no)), 422)
    assert body["errors"][f"answers.{ref.q['details']}"] == [
        "This question is not shown for your answers."
    ]
    response = _post(installation_client, ref, ref.full_ballot(yes=no, details=None))
    assert response.status_code == 201, response.get_json()
    # Optional questions may be skipped; empty free text counts as skipped.
    skipped = ref.full_ballot(
        multi=None,
        scale=None,
        rank=None,
        comment={"question_id": ref.q["comment"], "text": "   "},
    )
    response = _post(installation_client, ref, skipped)
    assert response.status_code == 200, response.get_json()
    assert {a["question_id"] for a in response.get_json()["answers"]} == {
        ref.q["single"],
        ref.q["yes"],
        ref.q["details"],
    }


def test_other_option_text(make_survey, installation_client):
    ref = make_survey()
    other = {
        "question_id": ref.q["single"],
        "option_id": ref.o["single"][2],
        "other_text": " Zu Fuß ",
    }
    response = _post(installation_client, ref, ref.full_ballot(single=other))
    assert response.status_code == 201, response.get_json()
    answers = {a["question_id"]: a for a in response.get_json()["answers"]}
    assert answers[ref.q["single"]] == {
        "question_id": ref.q["single"],
        "option_id": ref.o["single"][2],
        "other_text": "Zu Fuß",
    }


def test_answers_to_questions_of_another_survey_are_refused(app, make_survey, installation_client):
    ref = make_survey()
    other = make_survey()
    answers = ref.full_ballot(comment={"question_id": other.q["comment"], "text": "hallo"})
    body = assert_problem(_post(installation_client, ref, answers), 422)
    assert body["errors"] == {f"answers.{other.q['comment']}": ["Not a question of this survey."]}
    twice = [*ref.full_ballot(), {"question_id": ref.q["comment"], "text": "again"}]
    body = assert_problem(_post(installation_client, ref, twice), 422)
    assert body["errors"] == {f"answers.{ref.q['comment']}": ["Answered twice."]}
    assert _counts(app, ref.id) == (0, 0)


def test_same_installation_twice_replaces_its_ballot(app, make_survey, installation_client):
    ref = make_survey()
    first = _post(installation_client, ref, ref.full_ballot())
    assert first.status_code == 201
    changed = ref.full_ballot(scale={"question_id": ref.q["scale"], "value": 1})
    second = _post(installation_client, ref, changed)
    assert second.status_code == 200, second.get_json()
    assert _counts(app, ref.id) == (1, 10)
    mine = installation_client.get(f"/api/v1/surveys/{ref.id}/my-ballot")
    assert mine.status_code == 200
    assert mine.headers["Cache-Control"] == "private, no-store"
    scale = next(a for a in mine.get_json()["answers"] if a["question_id"] == ref.q["scale"])
    assert scale["value"] == 1
    with app.app_context():
        survey = db.session.get(Survey, ref.id)
        assert survey.ballot_count == 1 and survey.results_version == 2


def test_reject_policy_answers_409_on_a_second_ballot(app, make_survey, installation_client):
    ref = make_survey(resubmission="reject")
    assert _post(installation_client, ref, ref.full_ballot()).status_code == 201
    changed = ref.full_ballot(scale={"question_id": ref.q["scale"], "value": 1})
    assert_problem(_post(installation_client, ref, changed), 409)
    mine = installation_client.get(f"/api/v1/surveys/{ref.id}/my-ballot").get_json()
    assert next(a for a in mine["answers"] if a["question_id"] == ref.q["scale"])["value"] == 4


def test_two_installations_make_two_ballots(app, make_survey, make_installation):
    ref = make_survey()
    for api in (make_installation(), make_installation()):
        assert _post(api, ref, ref.full_ballot()).status_code == 201
    assert _counts(app, ref.id) == (2, 20)
    with app.app_context():
        assert db.session.get(Survey, ref.id).ballot_count == 2


def test_participant_key_reveals_neither_token_nor_installation(
    app, make_survey, make_installation
):
    first, second = make_survey(), make_survey()
    api = make_installation()
    for ref in (first, second):
        assert _post(api, ref, ref.full_ballot()).status_code == 201
    with app.app_context():
        installation = db.session.scalars(
            select(Installation).order_by(Installation.id.desc())
        ).first()
        token_hash = hashlib.sha256(api.token.encode()).hexdigest()
        rows = db.session.execute(text("SELECT * FROM survey_ballots")).mappings().all()
        assert len(rows) == 2
        columns = {
            c["name"] for c in inspect(db.session.connection()).get_columns("survey_ballots")
        }
        assert not {"installation_id", "token", "token_hash"} & columns
        for row in rows:
            stored = " ".join(str(v) for v in row.values())
            assert api.token not in stored and token_hash not in stored
            key = row["participant_key"]
            assert len(key) == 64 and key != token_hash
            for guess in (str(installation.id), f"installation:{installation.id}", api.token):
                assert key != hashlib.sha256(guess.encode()).hexdigest()
        # Keyed per survey: the same installation is not linkable across surveys.
        assert rows[0]["participant_key"] != rows[1]["participant_key"]


def test_participant_key_uses_configured_ballot_key(app, monkeypatch):
    from cityapp.surveys.service import participant_key

    with app.app_context():
        derived = participant_key(1, "installation:1")
        monkeypatch.setitem(app.config, "CITYAPP_BALLOT_KEY", "a-dedicated-ballot-key-0123456789")
        assert participant_key(1, "installation:1") != derived
        assert participant_key(1, "installation:1") == participant_key(1, "installation:1")


def test_missing_or_bad_installation_token_is_401(client, make_survey, app):
    ref = make_survey()
    response = client.post(f"/api/v1/surveys/{ref.id}/ballots", json={"answers": ref.full_ballot()})
    assert_problem(response, 401)
    assert "Bearer" in response.headers["WWW-Authenticate"]
    response = client.post(
        f"/api/v1/surveys/{ref.id}/ballots",
        json={"answers": ref.full_ballot()},
        headers={"Authorization": "Bearer cai_not-a-real-token"},
    )
    assert_problem(response, 401)
    assert_problem(client.get(f"/api/v1/surveys/{ref.id}/my-ballot"), 401)
    assert _counts(app, ref.id) == (0, 0)


def test_ballots_for_surveys_that_are_not_open_get_409(
    app, make_survey, installation_client, close_survey
):
    draft = make_survey(publish=False)
    assert_problem(_post(installation_client, draft, draft.full_ballot()), 409)
    scheduled = make_survey(opens_at=utcnow() + timedelta(days=1))
    with app.app_context():
        assert db.session.get(Survey, scheduled.id).status == "scheduled"
    assert_problem(_post(installation_client, scheduled, scheduled.full_ballot()), 409)
    closed = make_survey()
    close_survey(closed.id)
    assert_problem(_post(installation_client, closed, closed.full_ballot()), 409)
    stele_only = make_survey(
        [
            (
                "q",
                {
                    "type": "single_choice",
                    "title": t("q"),
                    "options": [{"label": t("a")}, {"label": t("b")}],
                },
            )
        ],
        channels=["stele"],
    )
    response = _post(
        installation_client,
        stele_only,
        [{"question_id": stele_only.q["q"], "option_id": stele_only.o["q"][0]}],
    )
    assert_problem(response, 409)
    assert_problem(
        installation_client.post("/api/v1/surveys/999999/ballots", json={"answers": []}), 404
    )
    for ref in (draft, scheduled, closed, stele_only):
        assert _counts(app, ref.id) == (0, 0)


def test_ballot_body_validation(app, make_survey, installation_client):
    ref = make_survey()
    assert_problem(
        installation_client.post(f"/api/v1/surveys/{ref.id}/ballots", json={}), 422, field="answers"
    )
    assert_problem(
        _post(installation_client, ref, ref.full_ballot(), district_id=999999),
        422,
        field="district_id",
    )
    assert_problem(
        _post(installation_client, ref, ref.full_ballot(), channel="stele"), 422, field="channel"
    )
    assert_problem(_post(installation_client, ref, ref.full_ballot(), extra=1), 422, field="extra")
    response = installation_client.post(
        f"/api/v1/surveys/{ref.id}/ballots", data="answers", headers={"Content-Type": "text/plain"}
    )
    assert_problem(response, 415)
    assert _counts(app, ref.id) == (0, 0)


def test_my_ballot_is_404_before_taking_part(make_survey, installation_client):
    ref = make_survey()
    assert_problem(installation_client.get(f"/api/v1/surveys/{ref.id}/my-ballot"), 404)


def test_ballots_are_rate_limited_per_token(
    app, make_survey, installation_client, make_installation, monkeypatch
):
    monkeypatch.setitem(app.config, "CITYAPP_BALLOT_RATE_LIMIT", "2 per minute")
    ref = make_survey()
    assert _post(installation_client, ref, ref.full_ballot()).status_code == 201
    assert _post(installation_client, ref, ref.full_ballot()).status_code == 200
    response = _post(installation_client, ref, ref.full_ballot())
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) >= 1
    # Another installation has its own budget.
    assert _post(make_installation(), ref, ref.full_ballot()).status_code == 201


@pytest.mark.parametrize("channel", ["web"])
def test_web_channel_ballot(make_survey, installation_client, channel):
    ref = make_survey(channels=["app", "web"])
    response = _post(installation_client, ref, ref.full_ballot(), channel=channel)
    assert response.status_code == 201 and response.get_json()["channel"] == "web"


def test_my_ballot_stays_readable_after_close(make_survey, installation_client, close_survey):
    ref = make_survey()
    assert _post(installation_client, ref, ref.full_ballot()).status_code == 201
    close_survey(ref.id)
    response = installation_client.get(f"/api/v1/surveys/{ref.id}/my-ballot")
    assert response.status_code == 200
    assert len(response.get_json()["answers"]) == 7
    assert_problem(_post(installation_client, ref, ref.full_ballot()), 409)
