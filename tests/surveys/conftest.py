"""Survey factories: a survey with every question type, installations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from cityapp.db import db, utcnow
from tests.conftest import ApiClient


def t(de: str, en: str | None = None) -> dict[str, str]:
    return {"de": de, "en": en} if en else {"de": de}


# Key -> question spec. Order matters: "details" depends on "yes".
ALL_TYPES: list[tuple[str, dict[str, Any]]] = [
    (
        "single",
        {
            "type": "single_choice",
            "title": t("Wie kommen Sie zur Arbeit?", "How do you get to work?"),
            "is_required": True,
            "options": [
                {"label": t("Fahrrad", "Bike")},
                {"label": t("Bus")},
                {"label": t("Anders", "Other"), "is_other": True},
            ],
        },
    ),
    (
        "multi",
        {
            "type": "multiple_choice",
            "title": t("Was fehlt im Park?"),
            "min_selections": 1,
            "max_selections": 2,
            "options": [{"label": t("Bänke")}, {"label": t("Bäume")}, {"label": t("Licht")}],
        },
    ),
    (
        "scale",
        {
            "type": "scale",
            "title": t("Wie zufrieden sind Sie?"),
            "scale_min": 1,
            "scale_max": 5,
            "scale_min_label": t("gar nicht"),
            "scale_max_label": t("sehr"),
        },
    ),
    ("yes", {"type": "yes_no", "title": t("Nutzen Sie den Park?"), "is_required": True}),
    (
        "details",
        {
            "type": "free_text",
            "title": t("Was gefällt Ihnen?"),
            "is_required": True,
            "max_length": 300,
            "condition": "yes=true",
        },
    ),
    (
        "rank",
        {
            "type": "ranking",
            "title": t("Was ist am wichtigsten?"),
            "options": [{"label": t("Sauberkeit")}, {"label": t("Ruhe")}, {"label": t("Spiel")}],
        },
    ),
    ("comment", {"type": "free_text", "title": t("Sonst noch etwas?")}),
]


@dataclass
class SurveyRef:
    id: int
    q: dict[str, int] = field(default_factory=dict)
    o: dict[str, list[int]] = field(default_factory=dict)

    def full_ballot(self, **overrides: Any) -> list[dict]:
        """A valid ballot for the ALL_TYPES survey; overrides replace answers by key."""
        answers = {
            "single": {"question_id": self.q["single"], "option_id": self.o["single"][0]},
            "multi": {"question_id": self.q["multi"], "option_ids": self.o["multi"][:2]},
            "scale": {"question_id": self.q["scale"], "value": 4},
            "yes": {"question_id": self.q["yes"], "value": True},
            "details": {"question_id": self.q["details"], "text": "Die Wiese"},
            "rank": {"question_id": self.q["rank"], "ranking": self.o["rank"]},
            "comment": {"question_id": self.q["comment"], "text": "Danke"},
        }
        answers.update(overrides)
        return [a for a in answers.values() if a is not None]


def create_survey_with(
    questions: list[tuple[str, dict]],
    *,
    publish: bool = True,
    **settings: Any,
) -> SurveyRef:
    """Build (and publish) a survey through the services; call inside an app context."""
    from cityapp.auth.service.actors import CLI
    from cityapp.surveys import service

    settings.setdefault("title", t("Parkumfrage", "Park survey"))
    survey = service.create_survey(CLI, **settings)
    ref = SurveyRef(id=survey.id)
    for key, spec in questions:
        spec = dict(spec)
        if spec.get("condition") == "yes=true":
            spec["condition"] = {"question_id": ref.q["yes"], "values": [True]}
        question = service.add_question(CLI, survey, **spec)
        ref.q[key] = question.id
        ref.o[key] = [o.id for o in question.options]
    if publish:
        service.publish_survey(CLI, survey)
    db.session.commit()
    return ref


@pytest.fixture
def make_survey(app: Flask):
    def factory(questions: list[tuple[str, dict]] | None = None, **kw: Any) -> SurveyRef:
        with app.app_context():
            return create_survey_with(ALL_TYPES if questions is None else questions, **kw)

    return factory


@pytest.fixture
def make_installation(app: Flask):
    def factory() -> ApiClient:
        response = app.test_client().post("/api/v1/installations")
        assert response.status_code == 201
        token = response.get_json()["token"]
        api_client = ApiClient(app.test_client(), {"Authorization": f"Bearer {token}"})
        api_client.token = token  # type: ignore[attr-defined]
        return api_client

    return factory


@pytest.fixture
def close_survey(app: Flask):
    """Close a survey by moving its closes_at into the past (as time would)."""

    def close(survey_id: int) -> None:
        from cityapp.surveys.models import Survey

        with app.app_context():
            survey = db.session.get(Survey, survey_id)
            survey.closes_at = utcnow() - timedelta(seconds=1)
            db.session.commit()

    return close


@pytest.fixture
def cast_ballots(app: Flask):
    """Store ballots through the service (no HTTP, no rate limit): n participants answering
    ``answers`` (a list, or a function of the participant number)."""
    counter = {"n": 0}

    def cast(ref: SurveyRef, n: int, answers, *, district_id: int | None = None) -> None:
        from cityapp.surveys.models import Survey
        from cityapp.surveys.service import participant_key, submit_ballot

        with app.app_context():
            survey = db.session.get(Survey, ref.id)
            for _ in range(n):
                counter["n"] += 1
                given = answers(counter["n"]) if callable(answers) else answers
                key = participant_key(ref.id, f"test:{counter['n']}")
                submit_ballot(survey, key, given, district_id=district_id)
            db.session.commit()

    return cast
