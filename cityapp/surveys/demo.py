"""Demo surveys for Musterstadt: an open survey with every question type and a few hundred
ballots, a closed one with published results, and a stele poll. Idempotent by title."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from cityapp.auth.service.actors import CLI
from cityapp.db import db, utcnow
from cityapp.places.models import District
from cityapp.surveys.models import ModerationStatus, Survey, SurveyAnswer, SurveyStatus
from cityapp.surveys.service import (
    add_question,
    create_survey,
    moderate_text_answer,
    participant_key,
    publish_survey,
    record_stele_vote,
    submit_ballot,
)

OPEN_TITLE = "Wie soll der Marktplatz künftig aussehen?"
CLOSED_TITLE = "Radwege in der Altstadt"
POLL_TITLE = "Soll der Wochenmarkt samstags bis 16 Uhr öffnen?"


def _t(de: str, en: str) -> dict[str, str]:
    return {"de": de, "en": en}


def _existing(title: str) -> Survey | None:
    for survey in db.session.scalars(select(Survey)):
        if (survey.title or {}).get("de") == title:
            return survey
    return None


def _open_survey(district_ids: list[int], rng: random.Random) -> Survey:
    survey = create_survey(
        CLI,
        title=_t(OPEN_TITLE, "What should the market square look like?"),
        description=_t(
            "Der Marktplatz wird 2027 neu gestaltet. Ihre Meinung fließt in den Entwurf ein.",
            "The market square will be redesigned in 2027. Your views shape the draft.",
        ),
        closes_at=utcnow() + timedelta(days=30),
        channels=["app", "web"],
        results_visibility="live",
    )
    q = {}
    q["visit"] = add_question(
        CLI,
        survey,
        type="single_choice",
        title=_t("Wie oft sind Sie auf dem Marktplatz?", "How often are you on the square?"),
        is_required=True,
        options=[
            {"label": _t("Täglich", "Daily")},
            {"label": _t("Wöchentlich", "Weekly")},
            {"label": _t("Selten", "Rarely")},
            {"label": _t("Anders", "Other"), "is_other": True},
        ],
    )
    q["wishes"] = add_question(
        CLI,
        survey,
        type="multiple_choice",
        title=_t("Was wünschen Sie sich? (bis zu 3)", "What would you like? (up to 3)"),
        min_selections=1,
        max_selections=3,
        options=[
            {"label": _t("Mehr Bäume", "More trees")},
            {"label": _t("Sitzbänke", "Benches")},
            {"label": _t("Trinkbrunnen", "Drinking fountain")},
            {"label": _t("Spielgeräte", "Play equipment")},
            {"label": _t("Fahrradbügel", "Bike racks")},
        ],
    )
    q["satisfaction"] = add_question(
        CLI,
        survey,
        type="scale",
        title=_t("Wie zufrieden sind Sie heute?", "How satisfied are you today?"),
        scale_min=1,
        scale_max=5,
        scale_min_label=_t("gar nicht", "not at all"),
        scale_max_label=_t("sehr", "very"),
    )
    q["cars"] = add_question(
        CLI,
        survey,
        type="yes_no",
        title=_t("Soll der Platz autofrei werden?", "Should the square be car-free?"),
        is_required=True,
    )
    q["why"] = add_question(
        CLI,
        survey,
        type="free_text",
        title=_t("Warum nicht?", "Why not?"),
        max_length=500,
        condition={"question_id": q["cars"].id, "values": [False]},
    )
    q["priorities"] = add_question(
        CLI,
        survey,
        type="ranking",
        title=_t("Was ist Ihnen am wichtigsten?", "What matters most to you?"),
        options=[
            {"label": _t("Aufenthaltsqualität", "A place to linger")},
            {"label": _t("Markttage", "Market days")},
            {"label": _t("Veranstaltungen", "Events")},
            {"label": _t("Parkplätze", "Parking")},
        ],
    )
    q["ideas"] = add_question(
        CLI, survey, type="free_text", title=_t("Ihre Idee für den Platz", "Your idea")
    )
    publish_survey(CLI, survey)
    ideas = [
        "Ein Wasserspiel für Kinder",
        "Mehr Schatten im Sommer",
        "Wochenmarkt auch am Abend",
        "Bessere Beleuchtung",
    ]
    for number in range(300):
        visit = q["visit"].options
        choice = rng.choices(visit, weights=[2, 5, 3, 0.3])[0]
        cars = rng.random() < 0.62
        answers: list[dict[str, Any]] = [
            {"question_id": q["visit"].id, "option_id": choice.id}
            | ({"other_text": "Nur zum Markt"} if choice.is_other else {}),
            {
                "question_id": q["wishes"].id,
                "option_ids": [o.id for o in rng.sample(q["wishes"].options, rng.randint(1, 3))],
            },
            {
                "question_id": q["satisfaction"].id,
                "value": rng.choices([1, 2, 3, 4, 5], [1, 2, 4, 5, 3])[0],
            },
            {"question_id": q["cars"].id, "value": cars},
            {
                "question_id": q["priorities"].id,
                "ranking": [o.id for o in rng.sample(q["priorities"].options, 4)],
            },
        ]
        if not cars and rng.random() < 0.4:
            answers.append({"question_id": q["why"].id, "text": "Ich bin auf das Auto angewiesen."})
        if rng.random() < 0.08:
            answers.append({"question_id": q["ideas"].id, "text": rng.choice(ideas)})
        submit_ballot(
            survey,
            participant_key(survey.id, f"demo:{number}"),
            answers,
            district_id=rng.choice([*district_ids, None]),
        )
    _approve_some_texts(survey)
    return survey


def _approve_some_texts(survey: Survey) -> None:
    """Publish the demo's free texts as a moderator would."""
    for answer in db.session.scalars(
        select(SurveyAnswer).where(
            SurveyAnswer.survey_id == survey.id,
            SurveyAnswer.moderation_status == ModerationStatus.PENDING,
        )
    ).all():
        moderate_text_answer(CLI, answer, ModerationStatus.APPROVED)


def _closed_survey(district_ids: list[int], rng: random.Random) -> Survey:
    survey = create_survey(
        CLI,
        title=_t(CLOSED_TITLE, "Cycle lanes in the old town"),
        description=_t(
            "Abgeschlossene Umfrage zur Radwegeplanung 2026.", "Closed survey on cycle lanes."
        ),
        results_visibility="after_close",
    )
    lane = add_question(
        CLI,
        survey,
        type="single_choice",
        title=_t("Welche Variante bevorzugen Sie?", "Which option do you prefer?"),
        is_required=True,
        options=[
            {"label": _t("Geschützter Radstreifen", "Protected lane")},
            {"label": _t("Fahrradstraße", "Bicycle street")},
            {"label": _t("Alles lassen, wie es ist", "Leave as is")},
        ],
    )
    safety = add_question(
        CLI,
        survey,
        type="scale",
        title=_t("Wie sicher fühlen Sie sich auf dem Rad?", "How safe do you feel cycling?"),
        scale_min=0,
        scale_max=10,
        scale_min_label=_t("unsicher", "unsafe"),
        scale_max_label=_t("sicher", "safe"),
    )
    publish_survey(CLI, survey)
    for number in range(150):
        submit_ballot(
            survey,
            participant_key(survey.id, f"demo:{number}"),
            [
                {
                    "question_id": lane.id,
                    "option_id": rng.choices(lane.options, weights=[5, 3, 2])[0].id,
                },
                {"question_id": safety.id, "value": rng.randint(2, 9)},
            ],
            district_id=rng.choice(district_ids),
        )
    survey.status = SurveyStatus.CLOSED
    survey.closes_at = utcnow()
    return survey


def _stele_poll() -> Survey:
    survey = create_survey(
        CLI,
        title=_t(POLL_TITLE, "Should the weekly market open until 4 pm on Saturdays?"),
        channels=["stele"],
        results_visibility="live",
        closes_at=utcnow() + timedelta(days=14),
    )
    question = add_question(
        CLI,
        survey,
        type="single_choice",
        title=_t(POLL_TITLE, "Should the weekly market open until 4 pm on Saturdays?"),
        is_required=True,
        options=[{"label": _t("Ja", "Yes")}, {"label": _t("Nein", "No")}],
    )
    publish_survey(CLI, survey)
    # Taps from the last hour on two steles, a minute apart (well past the cooldown).
    survey.opens_at = utcnow() - timedelta(hours=1)
    tapped_at = survey.opens_at
    for number in range(24):
        tapped_at += timedelta(minutes=1)
        option = question.options[0 if number % 3 else 1]
        record_stele_vote(
            f"demo-stele-{number % 2}", survey, option, f"demo-{number}", now=tapped_at
        )
    return survey


def seed_demo_surveys(district_ids: list[int] | None = None) -> dict[str, int]:
    """Create the demo surveys that are missing; existing ones are left as they are.
    Ballots get home districts from ``district_ids`` (default: every district)."""
    if district_ids is None:
        district_ids = list(db.session.scalars(select(District.id).order_by(District.position)))
    rng = random.Random(2026)  # the same demo every time
    created = 0
    for title, build in (
        (OPEN_TITLE, lambda: _open_survey(district_ids, rng)),
        (CLOSED_TITLE, lambda: _closed_survey(district_ids, rng)),
        (POLL_TITLE, _stele_poll),
    ):
        if _existing(title) is None:
            build()
            created += 1
    db.session.flush()
    return {"surveys_created": created}
