"""Feeds: RSS/Atom parsed by feedparser, CAP 1.2 validated against the OASIS schema, ETags."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from cityapp.auth.service.actors import CLI
from cityapp.content.service import announcements
from cityapp.db import db, utcnow
from tests.conftest import assert_problem, square
from tests.content.conftest import announcement_data

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


@pytest.fixture(scope="module")
def cap_schema():
    return etree.XMLSchema(etree.parse(str(Path(__file__).with_name("cap12.xsd"))))


def _validate(schema, xml: bytes):
    document = etree.fromstring(xml)
    assert schema.validate(document), schema.error_log
    return document


def test_news_rss_and_atom_parse(client, make_news, districts):
    make_news(title={"de": "Stadtfest am Samstag"}, category="kultur")
    make_news(title={"de": "Baustelle Altstadt"}, district_ids=[districts["altstadt"]])
    make_news(title={"de": "Baustelle Oberdorf"}, district_ids=[districts["oberdorf"]])
    rss = client.get("/feeds/news.rss")
    assert rss.status_code == 200 and rss.mimetype == "application/rss+xml"
    parsed = feedparser.parse(rss.data)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "rss20"
    assert {e.title for e in parsed.entries} == {
        "Stadtfest am Samstag",
        "Baustelle Altstadt",
        "Baustelle Oberdorf",
    }
    atom = feedparser.parse(client.get("/feeds/news.atom").data)
    assert not atom.bozo and atom.version == "atom10"
    assert all(e.published_parsed and e.id for e in atom.entries)
    district = feedparser.parse(client.get("/feeds/districts/altstadt/news.atom").data)
    assert {e.title for e in district.entries} == {"Stadtfest am Samstag", "Baustelle Altstadt"}
    culture = feedparser.parse(client.get("/feeds/news.rss?category=kultur").data)
    assert [e.title for e in culture.entries] == ["Stadtfest am Samstag"]
    assert_problem(client.get("/feeds/districts/atlantis/news.rss"), 404)
    assert_problem(client.get("/feeds/news.rss?category=klatsch"), 422)


def test_feeds_have_etags_and_answer_304(client, make_news, make_announcement):
    make_news()
    make_announcement()
    for path in (
        "/feeds/news.rss",
        "/feeds/news.atom",
        "/feeds/announcements.rss",
        "/feeds/announcements.atom",
        "/feeds/cap.atom",
    ):
        first = client.get(path)
        assert first.status_code == 200, path
        etag = first.headers["ETag"]
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
        assert client.get(path, headers={"If-None-Match": "W/" + etag}).status_code == 304
    announcements_feed = feedparser.parse(client.get("/feeds/announcements.rss").data)
    assert not announcements_feed.bozo and len(announcements_feed.entries) == 1


def test_cap_alert_update_and_cancel_validate_against_the_schema(
    app, client, districts, cap_schema
):
    now = utcnow()
    window = {"valid_from": now - timedelta(hours=1), "valid_until": now + timedelta(hours=6)}
    with app.app_context():
        first = announcements.create_announcement(
            CLI,
            **announcement_data(
                title={"de": "Unwetterwarnung", "en": "Severe weather warning"},
                body={"de": "<p>Sturmböen bis 100 km/h.</p>"},
                instruction={"de": "Bleiben Sie im Haus."},
                category="public_safety",
                level="emergency",
                district_ids=[districts["altstadt"]],
                **window,
            ),
        )
        announcements.publish_announcement(CLI, first)
        db.session.commit()
        first_id = first.id

    index = feedparser.parse(client.get("/feeds/cap.atom").data)
    assert not index.bozo and len(index.entries) == 1
    alert = _validate(cap_schema, client.get(f"/feeds/cap/{first_id}.xml").data)
    assert alert.findtext(f"{CAP}msgType") == "Alert"
    assert alert.findtext(f"{CAP}scope") == "Public"
    infos = alert.findall(f"{CAP}info")
    assert [i.findtext(f"{CAP}language") for i in infos] == ["de-DE", "en-GB"]
    info = infos[0]
    assert info.findtext(f"{CAP}severity") == "Extreme"
    assert info.findtext(f"{CAP}instruction") == "Bleiben Sie im Haus."
    assert info.find(f"{CAP}area/{CAP}geocode/{CAP}value").text == "066330001001"
    polygon = info.findtext(f"{CAP}area/{CAP}polygon").split()
    assert len(polygon) == 5 and polygon[0] == polygon[-1]

    with app.app_context():
        update = announcements.create_announcement(
            CLI,
            **announcement_data(
                title={"de": "Unwetterwarnung verlängert"},
                category="public_safety",
                level="warning",
                supersedes_id=first_id,
                area=square(9.45, 51.30, 0.01),
                **window,
            ),
        )
        announcements.publish_announcement(CLI, update)
        db.session.commit()
        update_id = update.id
    assert_problem(client.get(f"/feeds/cap/{first_id}.xml"), 404)  # superseded
    updated = _validate(cap_schema, client.get(f"/feeds/cap/{update_id}.xml").data)
    assert updated.findtext(f"{CAP}msgType") == "Update"
    reference = updated.findtext(f"{CAP}references")
    assert f":announcement:{first_id}," in reference

    with app.app_context():
        announcements.cancel_announcement(
            CLI, announcements.get_announcement(update_id), reason="Entwarnung"
        )
        db.session.commit()
    cancel = _validate(cap_schema, client.get(f"/feeds/cap/{update_id}.xml").data)
    assert cancel.findtext(f"{CAP}msgType") == "Cancel"
    assert cancel.findtext(f"{CAP}note") == "Entwarnung"
    assert f":announcement:{update_id}," in cancel.findtext(f"{CAP}references")
    assert client.get("/api/v1/announcements").get_json()["items"] == []


def test_cap_schema_rejects_what_cap_forbids(cap_schema):
    bad = (
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier>'
        b"<sender>s</sender><sent>2026-01-01T10:00:00Z</sent><status>Actual</status>"
        b"<msgType>Alert</msgType><scope>Public</scope></alert>"
    )
    assert not cap_schema.validate(etree.fromstring(bad))  # "Z" is not a CAP offset
