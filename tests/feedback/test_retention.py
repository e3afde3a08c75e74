"""Retention: contact data 90 days after closing, photos of rejected reports after 30 days,
anonymisation after the configured age; per-category overrides; the scheduler job."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from cityapp.auth.service import SCHEDULER
from cityapp.db import db, utcnow
from cityapp.feedback.models import Report, ReportContact, ReportPhoto
from cityapp.feedback.service.categories import find_category
from cityapp.feedback.service.retention import apply_retention
from cityapp.media.models import MediaAsset
from cityapp.media.service import get_storage
from cityapp.scheduler import get_job
from cityapp.scheduling import run_guarded
from tests.feedback.conftest import jpeg


def _age(app, report_id: int, **deltas: timedelta) -> None:
    with app.app_context():
        report = db.session.get(Report, report_id)
        for field, delta in deltas.items():
            setattr(report, field, utcnow() - delta)
        db.session.commit()


def test_contact_data_deleted_90_days_after_close(app, category, submit, moderator_client):
    contact = {"email": "a@example.org", "consent": True}
    _, closed_long_ago = submit(contact=contact)
    _, closed_recently = submit(contact=contact)
    _, still_open = submit(contact=contact)
    for created in (closed_long_ago, closed_recently):
        moderator_client.post(
            f"/api/v1/staff/reports/{created['id']}/status", json={"status": "rejected"}
        )
    _age(app, closed_long_ago["id"], closed_at=timedelta(days=91))
    _age(app, closed_recently["id"], closed_at=timedelta(days=89))
    _age(app, still_open["id"], created_at=timedelta(days=200))
    with app.app_context():
        counts = apply_retention(SCHEDULER)
        db.session.commit()
        assert counts["contacts_deleted"] == 1
        remaining = set(db.session.scalars(select(ReportContact.report_id)))
    assert remaining == {closed_recently["id"], still_open["id"]}


def test_category_override(app, category, submit, moderator_client):
    with app.app_context():
        find_category("strassenschaeden").contact_retention_days = 10
        db.session.commit()
    _, created = submit(contact={"email": "a@example.org"})
    moderator_client.post(
        f"/api/v1/staff/reports/{created['id']}/status", json={"status": "rejected"}
    )
    _age(app, created["id"], closed_at=timedelta(days=11))
    with app.app_context():
        assert apply_retention(SCHEDULER)["contacts_deleted"] == 1


def test_photos_of_rejected_reports_deleted_after_30_days(
    app, make_category, districts, submit, moderator_client
):
    make_category(is_auto_publish=False)
    _, rejected = submit(photos=[jpeg("red")])
    _, fresh = submit(photos=[jpeg("blue")])
    for created in (rejected, fresh):
        moderator_client.post(
            f"/api/v1/staff/reports/{created['id']}/reject", json={"reason": "spam"}
        )
    _age(app, rejected["id"], closed_at=timedelta(days=31))
    with app.app_context():
        storage = get_storage()
        old_sha, fresh_sha = (
            db.session.get(ReportPhoto, _photo_id(created["id"])).asset.sha256
            for created in (rejected, fresh)
        )
        assert storage.exists(f"{old_sha}/original") and storage.exists(f"{old_sha}/display")

        # A failed run deletes nothing, files included.
        counts = apply_retention(SCHEDULER)
        assert counts["photos_deleted"] == 1 and counts["media_deleted"] == 1
        db.session.rollback()
        assert storage.exists(f"{old_sha}/original")

        counts = apply_retention(SCHEDULER)
        db.session.commit()
        assert counts["photos_deleted"] == 1 and counts["media_deleted"] == 1
        left = db.session.scalars(select(ReportPhoto.report_id)).all()
        assert left == [fresh["id"]]
        assert all(not a.is_public for a in db.session.scalars(select(MediaAsset)))
        # The image itself is gone from storage, not only the row pointing at it.
        assert db.session.scalar(select(MediaAsset).where(MediaAsset.sha256 == old_sha)) is None
        for variant in ("original", "display", "thumbnail"):
            assert not storage.exists(f"{old_sha}/{variant}")
        assert storage.exists(f"{fresh_sha}/original")


def test_purge_keeps_media_that_something_else_still_uses(
    app, make_category, districts, submit, moderator_client, editor_client
):
    make_category(is_auto_publish=False)
    _, rejected = submit(photos=[jpeg("green")])
    moderator_client.post(f"/api/v1/staff/reports/{rejected['id']}/reject", json={"reason": "spam"})
    with app.app_context():
        sha = db.session.get(ReportPhoto, _photo_id(rejected["id"])).asset.sha256
    # The same picture, uploaded by an editor and used in a news item.
    upload = editor_client.post(
        "/api/v1/staff/media",
        data={"file": (io.BytesIO(jpeg("green")), "green.jpg", "image/jpeg")},
        content_type="multipart/form-data",
    )
    assert upload.status_code in (200, 201), upload.get_json()
    assert upload.get_json()["sha256"] == sha
    news = editor_client.post(
        "/api/v1/staff/news",
        json={
            "title": {"de": "Grün"},
            "category": "verkehr",
            "body": {"de": "<p>Grün</p>"},
            "images": [{"sha256": sha, "alt": {"de": "Grüne Fläche"}}],
        },
    )
    assert news.status_code == 201, news.get_json()
    _age(app, rejected["id"], closed_at=timedelta(days=31))
    with app.app_context():
        counts = apply_retention(SCHEDULER)
        db.session.commit()
        assert counts["photos_deleted"] == 1 and counts["media_deleted"] == 0
        assert get_storage().exists(f"{sha}/original")


def _photo_id(report_id: int) -> int:
    return db.session.scalar(select(ReportPhoto.id).where(ReportPhoto.report_id == report_id))


def test_old_reports_anonymised_by_the_nightly_job(app, category, submit, districts, monkeypatch):
    monkeypatch.setitem(app.config, "CITYAPP_REPORT_ANONYMISE_AFTER_DAYS", 365)
    _, old = submit(address="Marktplatz 1", contact={"email": "a@example.org"})
    _, young = submit()
    _age(app, old["id"], created_at=timedelta(days=400))
    with app.app_context():
        run = run_guarded(get_job("feedback.retention"), utcnow())
        assert run.status == "succeeded", run.result
        report = db.session.get(Report, old["id"])
        assert report.anonymised_at is not None
        assert report.description.startswith("Tiefes Schlagloch")  # text kept
        assert (report.lat, report.lon) == (51.31, 9.45)  # the Altstadt's centre
        assert report.address is None and report.contact is None
        assert report.installation_id is None
        assert db.session.get(Report, young["id"]).anonymised_at is None
