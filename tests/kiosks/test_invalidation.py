"""Invalidation: content and survey signals mark exactly the affected devices stale, in the
same transaction as the change; a rebuild never swallows a concurrent invalidation."""

from __future__ import annotations

from datetime import timedelta

from cityapp.auth.service.actors import CLI
from cityapp.content.models import Announcement, NewsItem
from cityapp.db import db, utcnow
from cityapp.kiosks.models import Device
from cityapp.kiosks.service import manifest
from cityapp.kiosks.service.devices import mark_devices_stale
from cityapp.places.models import District
from tests.kiosks.conftest import news_data, stele_poll


def _fresh(app, *device_ids: int) -> None:
    """Build and store every given device's manifest (as its next poll would)."""
    with app.app_context():
        for device_id in device_ids:
            device = db.session.get(Device, device_id)
            manifest.current(device, utcnow())
        db.session.commit()


def _stale(app) -> dict[int, bool]:
    with app.app_context():
        return {d.id: d.manifest_stale for d in db.session.scalars(db.select(Device))}


def test_news_for_one_district_marks_only_its_devices(app, pair, districts, make_news):
    alt = pair("Alt", district_id=districts["altstadt"])
    ober = pair("Ober", district_id=districts["oberdorf"])
    nowhere = pair("Rathaus")
    _fresh(app, alt.id, ober.id, nowhere.id)
    assert _stale(app) == {alt.id: False, ober.id: False, nowhere.id: False}
    make_news(district_ids=[districts["oberdorf"]])
    assert _stale(app) == {alt.id: False, ober.id: True, nowhere.id: False}
    _fresh(app, ober.id)
    make_news()  # whole municipality
    assert _stale(app) == {alt.id: True, ober.id: True, nowhere.id: True}


def test_retargeting_marks_the_previous_audience_too(app, pair, districts, make_news):
    alt = pair("Alt", district_id=districts["altstadt"])
    ober = pair("Ober", district_id=districts["oberdorf"])
    item_id = make_news(district_ids=[districts["altstadt"]])
    _fresh(app, alt.id, ober.id)
    with app.app_context():
        from cityapp.content.service import news

        news.update_news(
            CLI, db.session.get(NewsItem, item_id), district_ids=[districts["oberdorf"]]
        )
        db.session.commit()
    assert _stale(app) == {alt.id: True, ober.id: True}
    # ... and the item moved.
    assert alt.client.get("/api/device/v1/manifest").get_json()["items"] == []
    assert len(ober.client.get("/api/device/v1/manifest").get_json()["items"]) == 1


def test_channel_changes_count_but_app_only_content_does_not(
    app, pair, districts, make_announcement
):
    alt = pair("Alt", district_id=districts["altstadt"])
    _fresh(app, alt.id)
    app_only = make_announcement(channels=["app"])
    assert _stale(app) == {alt.id: False}
    with app.app_context():
        from cityapp.content.service import announcements

        item = db.session.get(Announcement, app_only)
        announcements.update_announcement(CLI, item, channels=["app", "stele"])
        db.session.commit()
    assert _stale(app) == {alt.id: True}
    body = alt.client.get("/api/device/v1/manifest").get_json()
    assert [i["id"] for i in body["items"]] == [f"announcement:{app_only}"]
    with app.app_context():
        from cityapp.content.service import announcements

        item = db.session.get(Announcement, app_only)
        announcements.update_announcement(CLI, item, channels=["app"])  # leaves steles
        db.session.commit()
    assert _stale(app) == {alt.id: True}
    assert alt.client.get("/api/device/v1/manifest").get_json()["items"] == []


def test_stale_marking_is_part_of_the_change_and_rolls_back_with_it(app, pair):
    device = pair()
    _fresh(app, device.id)
    with app.app_context():
        from cityapp.content.service import news

        item = news.create_news(CLI, **news_data())
        news.publish_news(CLI, item, publish_at=utcnow() - timedelta(seconds=1))
        db.session.rollback()
    assert _stale(app) == {device.id: False}


def test_survey_lifecycle_marks_stele_devices(app, pair, districts):
    alt = pair("Alt", district_id=districts["altstadt"])
    ober = pair("Ober", district_id=districts["oberdorf"])
    _fresh(app, alt.id, ober.id)
    with app.app_context():
        stele_poll(channels=["app"])
    assert _stale(app) == {alt.id: False, ober.id: False}
    with app.app_context():
        poll = stele_poll(district_ids=[districts["altstadt"]])
    assert _stale(app) == {alt.id: True, ober.id: False}
    _fresh(app, alt.id)
    with app.app_context():
        from cityapp.surveys.models import Survey
        from cityapp.surveys.service import close_survey

        close_survey(CLI, db.session.get(Survey, poll.id))
        db.session.commit()
    assert _stale(app) == {alt.id: True, ober.id: False}
    assert alt.client.get("/api/device/v1/manifest").get_json()["items"] == []


def test_the_survey_status_job_marks_devices_when_a_poll_opens(app, pair):
    device = pair()
    with app.app_context():
        poll = stele_poll(opens_at=utcnow() + timedelta(hours=100))
    _fresh(app, device.id)
    with app.app_context():
        from cityapp.surveys.models import Survey
        from cityapp.surveys.service.lifecycle import flip_survey_statuses

        survey = db.session.get(Survey, poll.id)
        survey.opens_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        _fresh(app, device.id)
        assert flip_survey_statuses(CLI)["opened"] == 1
        db.session.commit()
    assert _stale(app) == {device.id: True}


def test_district_renames_and_device_edits_mark_stale(app, pair, districts, admin_client):
    alt = pair("Alt", district_id=districts["altstadt"])
    ober = pair("Ober", district_id=districts["oberdorf"])
    _fresh(app, alt.id, ober.id)
    with app.app_context():
        from cityapp.places.service import update_district

        update_district(CLI, db.session.get(District, districts["altstadt"]), name="Alte Stadt")
        db.session.commit()
    assert _stale(app) == {alt.id: True, ober.id: True}
    body = alt.client.get("/api/device/v1/manifest").get_json()
    assert body["device"]["district"]["name"] == "Alte Stadt"
    _fresh(app, ober.id)
    etag = admin_client.get(f"/api/v1/staff/devices/{ober.id}").headers["ETag"]
    response = admin_client.patch(
        f"/api/v1/staff/devices/{ober.id}", json={"groups": ["nord"]}, headers={"If-Match": etag}
    )
    assert response.status_code == 200
    assert _stale(app)[ober.id] is False  # groups are not part of the manifest
    etag = response.headers["ETag"]
    admin_client.patch(
        f"/api/v1/staff/devices/{ober.id}", json={"name": "Neu"}, headers={"If-Match": etag}
    )
    assert _stale(app)[ober.id] is True


def test_a_rebuild_does_not_swallow_an_invalidation_that_happened_meanwhile(app, pair):
    device = pair()
    with app.app_context():
        row = db.session.get(Device, device.id)
        generation = row.manifest_generation
        built = manifest.build_manifest(row, utcnow())
        mark_devices_stale(district_ids=None)  # content changed while we were building
        manifest._store(row, built, generation, utcnow())
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Device, device.id).manifest_stale is True
