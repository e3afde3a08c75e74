"""The survey builder over the staff API: question types, conditions, validation, lifecycle,
freezing after the first ballot, permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cityapp.auth.models import AuditEntry
from cityapp.db import db, utcnow
from cityapp.surveys.models import Survey, SurveyStatus
from tests.conftest import assert_problem
from tests.surveys.conftest import ALL_TYPES, t

BASE = "/api/v1/staff/surveys"


def _create(api, **body):
    body.setdefault("title", t("Umfrage"))
    response = api.post(BASE, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _add(api, survey_id, spec):
    return api.post(f"{BASE}/{survey_id}/questions", json=spec)


def test_editor_builds_every_question_type_and_publishes(editor_client):
    survey = _create(editor_client, description=t("Beschreibung", "Description"))
    assert survey["status"] == "draft" and survey["questions"] == []
    assert survey["channels"] == ["app"] and survey["results_visibility"] == "after_close"
    ids: dict[str, int] = {}
    for key, spec in ALL_TYPES:
        spec = dict(spec)
        if spec.get("condition") == "yes=true":
            spec["condition"] = {"question_id": ids["yes"], "values": [True]}
        response = _add(editor_client, survey["id"], spec)
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        assert body["type"] == spec["type"] and body["title"]["de"] == spec["title"]["de"]
        ids[key] = body["id"]
    detail = editor_client.get(f"{BASE}/{survey['id']}").get_json()
    assert [q["id"] for q in detail["questions"]] == list(ids.values())
    single = detail["questions"][0]
    assert [o["is_other"] for o in single["options"]] == [False, False, True]
    assert detail["questions"][1]["min_selections"] == 1
    assert detail["questions"][1]["max_selections"] == 2
    assert detail["questions"][2]["scale_min_label"] == {"de": "gar nicht"}
    assert detail["questions"][6]["max_length"] == 1000  # default for free text
    report = editor_client.get(f"{BASE}/{survey['id']}/validation").get_json()
    assert report == {"is_valid": True, "errors": {}}
    published = editor_client.post(f"{BASE}/{survey['id']}/publish")
    assert published.status_code == 200, published.get_json()
    assert published.get_json()["status"] == "open"
    assert published.get_json()["opens_at"] is not None


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"type": "single_choice", "title": t("x"), "options": [{"label": t("a")}]}, "options"),
        ({"type": "scale", "title": t("x"), "scale_min": 5, "scale_max": 5}, "scale_max"),
        ({"type": "scale", "title": t("x"), "scale_min": 0, "scale_max": 20}, "scale_max"),
        (
            {
                "type": "multiple_choice",
                "title": t("x"),
                "min_selections": 3,
                "max_selections": 2,
                "options": [{"label": t("a")}, {"label": t("b")}, {"label": t("c")}],
            },
            "max_selections",
        ),
        (
            {
                "type": "multiple_choice",
                "title": t("x"),
                "max_selections": 4,
                "options": [{"label": t("a")}, {"label": t("b")}],
            },
            "max_selections",
        ),
        (
            {
                "type": "ranking",
                "title": t("x"),
                "options": [
                    {"label": t("a")},
                    {"label": t("b")},
                    {"label": t("c"), "is_other": True},
                ],
            },
            "options",
        ),
        ({"type": "yes_no", "title": t("x"), "options": [{"label": t("a")}]}, "options"),
        ({"type": "free_text", "title": t("x"), "max_length": 1001}, "max_length"),
        ({"type": "free_text", "title": {"en": "only English"}}, "title"),
        ({"type": "teleport", "title": t("x")}, "type"),
        ({"type": "yes_no", "title": t("x"), "colour": "red"}, "colour"),
    ],
)
def test_invalid_questions_are_refused_with_422(editor_client, spec, field):
    survey = _create(editor_client)
    response = _add(editor_client, survey["id"], spec)
    assert_problem(response, 422, field=field)
    assert editor_client.get(f"{BASE}/{survey['id']}").get_json()["questions"] == []


def _survey_with_sources(api):
    survey = _create(api)
    choice = _add(
        api,
        survey["id"],
        {
            "type": "single_choice",
            "title": t("a"),
            "options": [{"label": t("x")}, {"label": t("y")}],
        },
    ).get_json()
    scale = _add(api, survey["id"], {"type": "scale", "title": t("b")}).get_json()
    text = _add(api, survey["id"], {"type": "free_text", "title": t("c")}).get_json()
    return survey, choice, scale, text


def test_malformed_conditions_are_refused_with_422(editor_client):
    survey, choice, scale, text = _survey_with_sources(editor_client)
    other_option = choice["options"][0]["id"] + 1000
    bad_conditions = [
        {"question": choice["id"]},  # wrong key
        {"question_id": "1", "option_ids": [1]},  # id not an integer
        {"question_id": choice["id"]},  # neither option_ids nor values
        {"question_id": choice["id"], "option_ids": [], "values": [1]},  # both
        {"question_id": choice["id"], "option_ids": []},  # empty
        {"question_id": choice["id"], "option_ids": [other_option]},  # not its option
        {"question_id": choice["id"], "values": [1]},  # values on a choice question
        {"question_id": scale["id"], "values": [9]},  # out of the scale's range
        {"question_id": scale["id"], "values": [True]},  # bool is not a scale value
        {"question_id": text["id"], "values": ["x"]},  # free text cannot be a source
        {"question_id": 999999, "option_ids": [1]},  # unknown question
    ]
    for condition in bad_conditions:
        response = _add(
            editor_client,
            survey["id"],
            {"type": "yes_no", "title": t("d"), "condition": condition},
        )
        assert_problem(response, 422, field="condition")
    good = _add(
        editor_client,
        survey["id"],
        {
            "type": "yes_no",
            "title": t("d"),
            "condition": {"question_id": choice["id"], "option_ids": [choice["options"][1]["id"]]},
        },
    )
    assert good.status_code == 201, good.get_json()
    # A condition can only look back: moving the dependant before its source is refused.
    order = [good.get_json()["id"], choice["id"], scale["id"], text["id"]]
    response = editor_client.put(
        f"{BASE}/{survey['id']}/question-order", json={"question_ids": order}
    )
    assert_problem(response, 422)
    # ... and so is deleting the question it depends on.
    assert_problem(editor_client.delete(f"{BASE}/{survey['id']}/questions/{choice['id']}"), 409)


def test_condition_pointing_at_a_later_question_is_refused(editor_client):
    survey, choice, _scale, _text = _survey_with_sources(editor_client)
    later = _add(editor_client, survey["id"], {"type": "yes_no", "title": t("later")}).get_json()
    response = editor_client.patch(
        f"{BASE}/{survey['id']}/questions/{choice['id']}",
        json={"condition": {"question_id": later["id"], "values": [True]}},
    )
    assert_problem(response, 422, field="condition")


def test_reorder_sets_positions(editor_client):
    survey, choice, scale, text = _survey_with_sources(editor_client)
    order = [text["id"], choice["id"], scale["id"]]
    response = editor_client.put(
        f"{BASE}/{survey['id']}/question-order", json={"question_ids": order}
    )
    assert response.status_code == 200
    assert [q["id"] for q in response.get_json()["questions"]] == order
    assert [q["position"] for q in response.get_json()["questions"]] == [0, 1, 2]
    assert_problem(
        editor_client.put(
            f"{BASE}/{survey['id']}/question-order", json={"question_ids": order[:2]}
        ),
        422,
        field="question_ids",
    )


def test_whole_survey_is_validated_before_it_opens(editor_client):
    survey = _create(editor_client)
    body = assert_problem(
        editor_client.post(f"{BASE}/{survey['id']}/publish"), 422, field="questions"
    )
    assert body["errors"]["questions"]
    # A stele poll needs exactly one single-choice question.
    stele = _create(editor_client, channels=["stele"])
    for title in ("a", "b"):
        _add(
            editor_client,
            stele["id"],
            {
                "type": "single_choice",
                "title": t(title),
                "options": [{"label": t("x")}, {"label": t("y")}],
            },
        )
    assert_problem(editor_client.post(f"{BASE}/{stele['id']}/publish"), 422, field="channels")
    report = editor_client.get(f"{BASE}/{stele['id']}/validation").get_json()
    assert report["is_valid"] is False and "channels" in report["errors"]
    past = _create(editor_client, closes_at=(utcnow() - timedelta(days=1)).isoformat())
    _add(editor_client, past["id"], {"type": "yes_no", "title": t("q")})
    assert_problem(editor_client.post(f"{BASE}/{past['id']}/publish"), 422, field="closes_at")
    with editor_client.client.application.app_context():
        assert db.session.get(Survey, past["id"]).status == SurveyStatus.DRAFT


def test_schedule_open_close_archive(editor_client, client, app):
    opens = utcnow() + timedelta(hours=1)
    survey = _create(editor_client, opens_at=opens.isoformat())
    _add(editor_client, survey["id"], {"type": "yes_no", "title": t("q")})
    response = editor_client.post(f"{BASE}/{survey['id']}/publish")
    assert response.get_json()["status"] == "scheduled"
    assert client.get(f"/api/v1/surveys/{survey['id']}").status_code == 404
    assert_problem(editor_client.post(f"{BASE}/{survey['id']}/close"), 409)
    assert_problem(editor_client.post(f"{BASE}/{survey['id']}/publish"), 409)
    # opens_at reached: open at query time, before any job ran.
    with app.app_context():
        db.session.get(Survey, survey["id"]).opens_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    detail = client.get(f"/api/v1/surveys/{survey['id']}")
    assert detail.status_code == 200 and detail.get_json()["status"] == "open"
    listed = client.get("/api/v1/surveys").get_json()["items"]
    assert survey["id"] in [s["id"] for s in listed]
    staff_view = editor_client.get(f"{BASE}/{survey['id']}").get_json()
    assert staff_view["status"] == "scheduled" and staff_view["effective_status"] == "open"
    closed = editor_client.post(f"{BASE}/{survey['id']}/close")
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert survey["id"] not in [s["id"] for s in client.get("/api/v1/surveys").get_json()["items"]]
    archived = editor_client.post(f"{BASE}/{survey['id']}/archive")
    assert archived.status_code == 200 and archived.get_json()["status"] == "archived"
    assert_problem(editor_client.post(f"{BASE}/{survey['id']}/close"), 409)


def test_scheduler_job_flips_statuses(app, make_survey):
    from cityapp.scheduler import get_job

    spec = get_job("surveys.statuses")
    opening = make_survey([("q", {"type": "yes_no", "title": t("q")})])
    closing = make_survey([("q", {"type": "yes_no", "title": t("q")})])
    with app.app_context():
        first = db.session.get(Survey, opening.id)
        first.status = SurveyStatus.SCHEDULED
        first.opens_at = utcnow() - timedelta(minutes=1)
        db.session.get(Survey, closing.id).closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        result = spec.func()
        db.session.commit()
        assert result == {"opened": 1, "closed": 1}
        assert db.session.get(Survey, opening.id).status == SurveyStatus.OPEN
        assert db.session.get(Survey, closing.id).status == SurveyStatus.CLOSED
        actions = db.session.scalars(
            select(AuditEntry.actor_label).where(AuditEntry.action == "survey.status_change")
        ).all()
        assert actions == ["system:scheduler", "system:scheduler"]
        assert spec.func() == {"opened": 0, "closed": 0}


def test_questions_freeze_after_first_ballot_but_texts_can_be_corrected(
    editor_client, make_survey, installation_client, app
):
    ref = make_survey(
        [
            (
                "q",
                {
                    "type": "single_choice",
                    "title": t("Frage"),
                    "options": [{"label": t("a")}, {"label": t("b")}],
                },
            )
        ]
    )
    path = f"{BASE}/{ref.id}/questions/{ref.q['q']}"
    # Before any ballot, structure may still change on an open survey.
    response = editor_client.patch(path, json={"is_required": True})
    assert response.status_code == 200, response.get_json()
    ballot = installation_client.post(
        f"/api/v1/surveys/{ref.id}/ballots",
        json={"answers": [{"question_id": ref.q["q"], "option_id": ref.o["q"][0]}]},
    )
    assert ballot.status_code == 201, ballot.get_json()
    for change in (
        {"is_required": False},
        {"type": "yes_no"},
        {"options": [{"id": ref.o["q"][0], "label": t("a")}]},
        {
            "options": [
                {"id": ref.o["q"][0], "label": t("a")},
                {"id": ref.o["q"][1], "label": t("b")},
                {"label": t("c")},
            ]
        },
    ):
        assert_problem(editor_client.patch(path, json=change), 409)
    assert_problem(
        editor_client.post(
            f"{BASE}/{ref.id}/questions", json={"type": "yes_no", "title": t("neu")}
        ),
        409,
    )
    assert_problem(editor_client.delete(path), 409)
    corrected = editor_client.patch(
        path,
        json={
            "title": t("Frage (korrigiert)"),
            "options": [
                {"id": ref.o["q"][0], "label": t("A!")},
                {"id": ref.o["q"][1], "label": t("b")},
            ],
        },
    )
    assert corrected.status_code == 200, corrected.get_json()
    body = corrected.get_json()
    assert body["title"] == {"de": "Frage (korrigiert)"}
    assert [o["id"] for o in body["options"]] == ref.o["q"]
    assert body["options"][0]["label"] == {"de": "A!"}
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "survey.text_corrected")
        ).one()
        assert entry.object_id == str(ref.id)
        assert entry.changes["title"] == {
            "from": {"de": "Frage"},
            "to": {"de": "Frage (korrigiert)"},
        }
        assert entry.changes["options"][0]["to"] == {"de": "A!"}


def test_update_survey_with_if_match_and_audit(editor_client, app):
    survey = _create(editor_client)
    response = editor_client.get(f"{BASE}/{survey['id']}")
    etag = response.headers["ETag"]
    stale = editor_client.patch(
        f"{BASE}/{survey['id']}", json={"title": t("Neu")}, headers={"If-Match": '"stale"'}
    )
    assert_problem(stale, 412)
    ok = editor_client.patch(
        f"{BASE}/{survey['id']}",
        json={"title": t("Neu"), "results_visibility": "live", "resubmission": "reject"},
        headers={"If-Match": etag},
    )
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["title"] == {"de": "Neu"} and ok.get_json()["resubmission"] == "reject"
    assert ok.headers["ETag"] != etag
    assert_problem(
        editor_client.patch(f"{BASE}/{survey['id']}", json={"district_ids": [999999]}),
        422,
        field="district_ids",
    )
    assert_problem(
        editor_client.patch(f"{BASE}/{survey['id']}", json={"channels": ["fax"]}),
        422,
        field="channels",
    )
    with app.app_context():
        assert db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "survey.update", AuditEntry.object_id == str(survey["id"])
            )
        ).one().changes["results_visibility"] == {"from": "after_close", "to": "live"}


def test_delete_only_drafts(editor_client, make_survey):
    draft = _create(editor_client)
    assert editor_client.delete(f"{BASE}/{draft['id']}").status_code == 204
    assert_problem(editor_client.get(f"{BASE}/{draft['id']}"), 404)
    ref = make_survey()
    assert_problem(editor_client.delete(f"{BASE}/{ref.id}"), 409)


def test_builder_permissions(moderator_client, client, token_client):
    assert_problem(moderator_client.post(BASE, json={"title": t("x")}), 403)
    assert_problem(client.post(BASE, json={"title": t("x")}), 401)
    assert_problem(client.get(BASE), 401)
    reader = token_client("editor", scopes=("read",))
    assert_problem(reader.post(BASE, json={"title": t("x")}), 403)
    listed = reader.get(BASE)
    assert listed.status_code == 200 and listed.get_json()["next_cursor"] is None


def test_survey_input_validation(editor_client):
    assert_problem(editor_client.post(BASE, json={"title": {"en": "x"}}), 422, field="title")
    assert_problem(
        editor_client.post(BASE, json={"title": {"de": "x", "fr": "y"}}), 422, field="title"
    )
    assert_problem(
        editor_client.post(BASE, json={"title": t("x"), "secret": 1}), 422, field="secret"
    )
    now = utcnow()
    response = editor_client.post(
        BASE,
        json={
            "title": t("x"),
            "opens_at": now.isoformat(),
            "closes_at": (now - timedelta(days=1)).isoformat(),
        },
    )
    assert_problem(response, 422, field="closes_at")
