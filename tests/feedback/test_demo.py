"""The feedback demo: seven categories of a German town, reports in every status; idempotent."""

from sqlalchemy import select

from cityapp.db import db
from cityapp.feedback.models import Report, ReportStatus


def test_demo_feedback_is_seeded_once_in_every_state(app, client):
    from cityapp.demo import seed_demo

    with app.app_context():
        first = seed_demo()
        db.session.commit()
        second = seed_demo()
        db.session.commit()
        statuses = set(db.session.scalars(select(Report.status)))
        states = set(db.session.scalars(select(Report.moderation_state)))
    assert first["report_categories_created"] == 7 and first["reports_created"] >= 10
    assert second["report_categories_created"] == 0 and second["reports_created"] == 0
    assert statuses == {s.value for s in ReportStatus}
    assert states == {"pending", "published", "rejected", "hidden"}
    services = client.get("/open311/v2/services.json").get_json()
    assert len(services) == 7
    assert client.get("/open311/v2/requests.json").get_json()
