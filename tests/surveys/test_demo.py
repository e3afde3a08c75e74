"""The demo seed creates the three demo surveys once, with ballots and published results."""

from __future__ import annotations

from sqlalchemy import func, select

from cityapp.db import db
from cityapp.demo import seed_demo
from cityapp.surveys.demo import CLOSED_TITLE, OPEN_TITLE, POLL_TITLE
from cityapp.surveys.models import QuestionType, Survey, SurveyBallot


def _by_title(title):
    return next(s for s in db.session.scalars(select(Survey)) if s.title["de"] == title)


def test_seed_demo_surveys_is_idempotent(app, client):
    with app.app_context():
        first = seed_demo()
        db.session.commit()
        assert first["surveys_created"] == 3
        open_survey, closed, poll = (_by_title(t) for t in (OPEN_TITLE, CLOSED_TITLE, POLL_TITLE))
        assert {q.type for q in open_survey.questions} == {t.value for t in QuestionType}
        assert open_survey.ballot_count == 300 and open_survey.effective_status() == "open"
        assert closed.effective_status() == "closed" and closed.ballot_count == 150
        assert poll.channels == ["stele"] and poll.ballot_count == 24
        ids = (open_survey.id, closed.id, poll.id)
        ballots = db.session.scalar(select(func.count()).select_from(SurveyBallot))
        second = seed_demo()
        db.session.commit()
        assert second["surveys_created"] == 0
        assert db.session.scalar(select(func.count()).select_from(SurveyBallot)) == ballots
    results = client.get(f"/api/v1/surveys/{ids[1]}/results")
    assert results.status_code == 200 and results.get_json()["participants"] == 150
    live = client.get(f"/api/v1/surveys/{ids[0]}/results?by=district").get_json()
    assert live["participants"] == 300 and live["districts"]["groups"]
    texts = [b for b in live["questions"] if b["type"] == "free_text"]
    assert any(block["texts"] for block in texts)  # moderated texts are published
    listed = client.get("/api/v1/surveys?channel=stele").get_json()["items"]
    assert [s["id"] for s in listed] == [ids[2]]
