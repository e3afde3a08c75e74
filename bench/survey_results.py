"""Survey benchmark: ballot submission throughput and result computation on 100 000 ballots.

    python bench/survey_results.py                      # temporary SQLite file
    python bench/survey_results.py --database-url postgresql+psycopg://postgres@127.0.0.1/db

Builds a 10-question survey (every question type), submits ``--submit`` ballots through the
HTTP API (installation tokens, full validation, one commit each) and through the service,
bulk-loads the rest up to ``--ballots``, then times the results. Baselines measured in the
same run give ratios that mean something on any machine:

* floor: one ``SELECT count(*)`` over the survey's answer rows (the least any aggregate costs);
* naive: loading every answer row into Python and counting there (what the service avoids).

Use an empty database: on PostgreSQL the tables are created by the migrations if missing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text

QUESTIONS = [
    ("single_choice", {"options": 4}),
    ("single_choice", {"options": 3}),
    ("single_choice", {"options": 5, "other": True}),
    ("multiple_choice", {"options": 5, "max_selections": 3}),
    ("multiple_choice", {"options": 4, "max_selections": 2}),
    ("scale", {"scale_min": 1, "scale_max": 5}),
    ("scale", {"scale_min": 0, "scale_max": 10}),
    ("yes_no", {}),
    ("ranking", {"options": 4}),
    ("free_text", {}),
]


def build_survey(service, cli):
    survey = service.create_survey(cli, title={"de": "Benchmark"}, results_visibility="live")
    for number, (qtype, spec) in enumerate(QUESTIONS, 1):
        data = {"type": qtype, "title": {"de": f"Frage {number}"}}
        if "options" in spec:
            data["options"] = [{"label": {"de": f"Option {i}"}} for i in range(spec["options"])]
            if spec.get("other"):
                data["options"].append({"label": {"de": "Anders"}, "is_other": True})
        for key in ("max_selections", "scale_min", "scale_max"):
            if key in spec:
                data[key] = spec[key]
        service.add_question(cli, survey, **data)
    service.publish_survey(cli, survey)
    return survey


def random_answers(survey, rng: random.Random) -> list[dict]:
    answers = []
    for question in survey.questions:
        options = [o.id for o in question.options]
        if question.type == "single_choice":
            answers.append({"question_id": question.id, "option_id": rng.choice(options)})
        elif question.type == "multiple_choice":
            count = rng.randint(1, question.max_selections)
            answers.append({"question_id": question.id, "option_ids": rng.sample(options, count)})
        elif question.type == "scale":
            value = rng.randint(question.scale_min, question.scale_max)
            answers.append({"question_id": question.id, "value": value})
        elif question.type == "yes_no":
            answers.append({"question_id": question.id, "value": rng.random() < 0.6})
        elif question.type == "ranking":
            answers.append(
                {"question_id": question.id, "ranking": rng.sample(options, len(options))}
            )
        elif rng.random() < 0.1:
            answers.append({"question_id": question.id, "text": "Mehr Bänke bitte"})
    return answers


def bulk_load(app, db, survey, count: int, rng: random.Random, districts: list[int]) -> None:
    """Insert ballots and answer rows with executemany (the same shapes the service writes)."""
    from cityapp.db import utcnow
    from cityapp.surveys.models import Survey, SurveyAnswer, SurveyBallot
    from cityapp.surveys.service import questions_with_options
    from cityapp.surveys.service.ballots import validate_answers

    questions = questions_with_options(survey)
    start_id = (db.session.scalar(select(func.max(SurveyBallot.id))) or 0) + 1
    now = utcnow()
    chunk = 5000
    for offset in range(0, count, chunk):
        ballots, answers = [], []
        for ballot_id in range(start_id + offset, start_id + min(offset + chunk, count)):
            ballots.append(
                {
                    "id": ballot_id,
                    "survey_id": survey.id,
                    "participant_key": f"{ballot_id:064x}",
                    "channel": "app",
                    "district_id": rng.choice(districts),
                    "submitted_at": now,
                    "updated_at": now,
                }
            )
            for row in validate_answers(survey, random_answers(survey, rng), questions):
                answers.append(
                    {
                        "ballot_id": ballot_id,
                        "survey_id": survey.id,
                        "question_id": row.question_id,
                        "option_id": row.option_id,
                        "value": row.value,
                        "text": row.text,
                        "moderation_status": "pending" if row.text else None,
                        "moderated_at": None,
                        "moderated_by_id": None,
                    }
                )
        db.session.execute(SurveyBallot.__table__.insert(), ballots)
        db.session.execute(SurveyAnswer.__table__.insert(), answers)
        db.session.commit()
    db.session.execute(
        Survey.__table__.update()
        .where(Survey.id == survey.id)
        .values(
            ballot_count=select(func.count())
            .select_from(SurveyBallot)
            .where(SurveyBallot.survey_id == survey.id)
            .scalar_subquery(),
            results_version=Survey.results_version + 1,
        )
    )
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('survey_ballots', 'id'), "
                "(SELECT max(id) FROM survey_ballots))"
            )
        )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE survey_answers"))
        db.session.execute(text("ANALYZE survey_ballots"))
        db.session.commit()


def timed(func, repeat: int = 5) -> float:
    """Median wall time in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--submit", type=int, default=1000, help="ballots through HTTP/service")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="cityapp-bench-")
    url = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"

    from flask_migrate import upgrade

    from cityapp import create_app
    from cityapp.auth.service.actors import CLI
    from cityapp.db import db
    from cityapp.places.service import upsert_district
    from cityapp.surveys import service
    from cityapp.surveys.models import Survey, SurveyAnswer

    app = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "CITYAPP_LOG_LEVEL": "WARNING",
        }
    )
    rng = random.Random(42)
    with app.app_context():
        upgrade()
        districts = [
            upsert_district(CLI, slug=f"bench-{i}", name=f"Bezirk {i}").id for i in range(6)
        ]
        survey = build_survey(service, CLI)
        db.session.commit()
        survey_id = survey.id
        print(f"database: {db.engine.dialect.name}  survey {survey_id}: 10 questions")

    # 1. Submission throughput through the HTTP API: auth, validation, insert, commit.
    client = app.test_client()
    tokens = [client.post("/api/v1/installations").get_json()["token"] for _ in range(args.submit)]
    with app.app_context():
        payloads = [random_answers(db.session.get(Survey, survey_id), rng) for _ in tokens]
    start = time.perf_counter()
    for token, answers in zip(tokens, payloads, strict=True):
        response = client.post(
            f"/api/v1/surveys/{survey_id}/ballots",
            json={"answers": answers, "district_id": rng.choice(districts)},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.get_json()
    http_rate = args.submit / (time.perf_counter() - start)

    # 2. The same through the service alone (one commit per ballot), and the floor for any
    #    write: a one-row UPDATE and its commit.
    with app.app_context():
        start = time.perf_counter()
        for _ in range(args.submit):
            db.session.execute(
                Survey.__table__.update()
                .where(Survey.id == survey_id)
                .values(district_threshold=Survey.district_threshold)
            )
            db.session.commit()
        commit_rate = args.submit / (time.perf_counter() - start)

        survey = db.session.get(Survey, survey_id)
        payloads = [random_answers(survey, rng) for _ in range(args.submit)]
        start = time.perf_counter()
        for number, answers in enumerate(payloads):
            key = service.participant_key(survey_id, f"bench-service:{number}")
            service.submit_ballot(survey, key, answers, district_id=rng.choice(districts))
            db.session.commit()
        service_rate = args.submit / (time.perf_counter() - start)

        # 3. Fill up to the target with bulk inserts.
        remaining = max(args.ballots - 2 * args.submit, 0)
        start = time.perf_counter()
        bulk_load(app, db, survey, remaining, rng, districts)
        load_s = time.perf_counter() - start
        db.session.expire_all()
        survey = db.session.get(Survey, survey_id)
        answer_rows = db.session.scalar(
            select(func.count())
            .select_from(SurveyAnswer)
            .where(SurveyAnswer.survey_id == survey_id)
        )
        # The bulk rows bypassed the counters: rebuild them with the GROUP BY path, timed.
        start = time.perf_counter()
        service.rebuild_result_cells(survey)
        db.session.commit()
        rebuild_ms = (time.perf_counter() - start) * 1000
        print(
            f"ballots: {survey.ballot_count}  answer rows: {answer_rows}  bulk load {load_s:.1f} s"
        )

        def translate(values):
            return (values or {}).get("de")

        results_ms = timed(lambda: service.compute_results(survey, translate))
        district_ms = timed(lambda: service.compute_results(survey, translate, by_district=True))
        floor_ms = timed(
            lambda: db.session.scalar(
                select(func.count())
                .select_from(SurveyAnswer)
                .where(SurveyAnswer.survey_id == survey_id)
            )
        )

        def naive():
            counts = Counter()
            for row in db.session.execute(
                select(SurveyAnswer.question_id, SurveyAnswer.option_id, SurveyAnswer.value).where(
                    SurveyAnswer.survey_id == survey_id
                )
            ):
                counts[tuple(row)] += 1
            return counts

        naive_ms = timed(naive, repeat=1)

    # 4. Reads over HTTP: a full 200 against a 304 from the version key alone.
    path = f"/api/v1/surveys/{survey_id}/results"
    response = client.get(path)
    assert response.status_code == 200
    etag = response.headers["ETag"]
    http_200_ms = timed(lambda: client.get(path), repeat=3)
    http_304_ms = timed(lambda: client.get(path, headers={"If-None-Match": etag}), repeat=20)

    print()
    print(f"{'measure':<52}{'value':>14}")
    print(f"{'ballot submission, HTTP API (ballots/s)':<52}{http_rate:>14.0f}")
    print(f"{'ballot submission, service + commit (ballots/s)':<52}{service_rate:>14.0f}")
    print(f"{'baseline: one-row UPDATE + commit (per s)':<52}{commit_rate:>14.0f}")
    print(f"{'results, all 10 questions (ms, median of 5)':<52}{results_ms:>14.1f}")
    print(f"{'results with district breakdown (ms, median of 5)':<52}{district_ms:>14.1f}")
    print(f"{'full GROUP BY recount of the counters (ms, once)':<52}{rebuild_ms:>14.1f}")
    print(f"{'baseline floor: count(*) of answer rows (ms)':<52}{floor_ms:>14.1f}")
    print(f"{'baseline naive: all rows into Python (ms)':<52}{naive_ms:>14.1f}")
    print(f"{'GET results over HTTP, 200 (ms)':<52}{http_200_ms:>14.1f}")
    print(f"{'GET results over HTTP, 304 by ETag (ms)':<52}{http_304_ms:>14.2f}")
    print()
    print(f"commit floor / service submissions: {commit_rate / service_rate:5.1f}x")
    print(f"results / floor:  {results_ms / floor_ms:6.2f}x")
    print(f"naive / results:  {naive_ms / results_ms:6.1f}x")
    print(f"recount / results: {rebuild_ms / results_ms:5.1f}x")
    print(f"200 / 304:        {http_200_ms / http_304_ms:6.1f}x")


if __name__ == "__main__":
    main()
