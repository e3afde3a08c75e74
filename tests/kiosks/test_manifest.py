"""Manifests: shape, canonical version, targeting per district and channel, look-ahead,
media, polls, and the cached 304 path that never rebuilds."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta

from PIL import Image
from sqlalchemy import event

from cityapp.auth.service.actors import CLI
from cityapp.db import db, utcnow
from cityapp.kiosks.models import Device
from cityapp.kiosks.service import manifest
from tests.conftest import assert_problem
from tests.kiosks.conftest import stele_poll


def _get(device, **headers):
    return device.client.get("/api/device/v1/manifest", headers=headers)


def _ids(body) -> set[str]:
    return {item["id"] for item in body["items"]}


def test_manifest_shape_headers_and_canonical_version(pair, districts, make_news):
    device = pair(district_id=districts["altstadt"], lat=51.31, lon=9.45)
    make_news(district_ids=[districts["altstadt"]])
    response = _get(device)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {
        "schema",
        "version",
        "generated_at",
        "timezone",
        "valid_until",
        "next_change_at",
        "poll",
        "device",
        "items",
        "alerts",
        "alert_version",
        "assets",
    }
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert response.headers["Cache-Control"] == "no-cache"
    assert body["schema"] == 1 and body["timezone"] == "Europe/Berlin"
    assert body["poll"] == {"manifest_s": 60, "heartbeat_s": 30, "jitter_pct": 20}
    assert body["device"] == {
        "id": device.id,
        "name": "Marktplatz",
        "district": {"id": districts["altstadt"], "name": "Altstadt"},
        "location": {"lat": 51.31, "lon": 9.45},
        "orientation": "portrait",
        "schedule": {},
        "settings": {},
    }
    item = body["items"][0]
    assert item["kind"] == "news" and item["duration_s"] == 20
    assert item["title"]["de"] == "Hauptstraße wird saniert"
    assert item["valid_from"].endswith("Z") and item["valid_until"] is None
    # The version is the SHA-256 of the canonical JSON without the volatile fields.
    text = response.get_data(as_text=True)
    assert text == json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    stable = {k: v for k, v in body.items() if k not in ("version", "generated_at", "valid_until")}
    canonical = json.dumps(stable, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode()).hexdigest() == body["version"]
    assert body["alert_version"] == hashlib.sha256(b"[]").hexdigest()
    valid_until = body["valid_until"]
    assert valid_until > body["generated_at"]


def test_if_none_match_gets_304_without_building_or_extra_queries(app, pair, monkeypatch):
    device = pair()
    calls = []
    original = manifest.build_manifest

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(manifest, "build_manifest", counting)
    first = _get(device)
    assert first.status_code == 200 and len(calls) == 1
    etag = first.headers["ETag"]

    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.session.get_bind()
    event.listen(engine, "after_cursor_execute", count)
    try:
        second = _get(device, **{"If-None-Match": etag})
    finally:
        event.remove(engine, "after_cursor_execute", count)
    assert second.status_code == 304 and second.get_data() == b""
    assert second.headers["ETag"] == etag
    assert len(calls) == 1, "the 304 path must not build the manifest"
    selects = [
        s
        for s in statements
        if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))
    ]
    assert len(selects) == 1, selects  # the authentication lookup, nothing else
    assert "devices" in selects[0] and "secret_hash" in selects[0]
    assert "devices.name" not in selects[0], "the poll reads the few columns it needs"

    # A 200 from the cache does not build either; it loads the stored body.
    third = _get(device)
    assert third.status_code == 200 and len(calls) == 1
    assert third.get_data() == first.get_data()


def test_a_stale_or_aged_cache_is_rebuilt_and_keeps_its_version_if_nothing_changed(
    app, pair, monkeypatch
):
    device = pair()
    first = _get(device).get_json()
    calls = []
    original = manifest.build_manifest
    monkeypatch.setattr(
        manifest, "build_manifest", lambda *a, **k: calls.append(1) or original(*a, **k)
    )
    with app.app_context():
        row = db.session.get(Device, device.id)
        row.manifest_built_at = utcnow() - timedelta(hours=1)  # older than the max age
        db.session.commit()
    again = _get(device, **{"If-None-Match": f'"{first["version"]}"'})
    assert again.status_code == 304 and len(calls) == 1
    with app.app_context():
        row = db.session.get(Device, device.id)
        row.manifest_next_change_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert _get(device, **{"If-None-Match": f'"{first["version"]}"'}).status_code == 304
    assert len(calls) == 2


def test_targeting_per_district_and_channel(pair, districts, make_news, make_announcement):
    altstadt = pair("Alt", district_id=districts["altstadt"])
    oberdorf = pair("Ober", district_id=districts["oberdorf"])
    nowhere = pair("Rathaus")
    everyone = make_news(title={"de": "Für alle"})
    alt_news = make_news(district_ids=[districts["altstadt"]])
    ober_news = make_news(district_ids=[districts["oberdorf"]])
    alt_notice = make_announcement(district_ids=[districts["altstadt"]])
    app_only = make_announcement(channels=["app"])
    draft = make_news(status="draft")
    warning = make_announcement(
        level="warning",
        valid_from=utcnow() - timedelta(minutes=1),
        valid_until=utcnow() + timedelta(hours=2),
    )
    alt_ids = _ids(_get(altstadt).get_json())
    assert alt_ids == {f"news:{everyone}", f"news:{alt_news}", f"announcement:{alt_notice}"}
    ober_ids = _ids(_get(oberdorf).get_json())
    assert ober_ids == {f"news:{everyone}", f"news:{ober_news}"}
    assert _ids(_get(nowhere).get_json()) == {f"news:{everyone}"}
    for body in (_get(altstadt).get_json(), _get(nowhere).get_json()):
        assert f"announcement:{app_only}" not in _ids(body)
        assert f"news:{draft}" not in _ids(body)
        assert f"announcement:{warning}" not in _ids(body)  # warnings go to the alerts lane
        assert [a["id"] for a in body["alerts"]] == [f"announcement:{warning}"]


def test_version_changes_exactly_when_the_resolved_content_changes(app, pair, districts, make_news):
    device = pair(district_id=districts["altstadt"])
    v0 = _get(device).get_json()["version"]
    make_news(district_ids=[districts["oberdorf"]])  # another district
    make_news(status="draft", district_ids=[districts["altstadt"]])  # a draft
    assert _get(device).get_json()["version"] == v0
    with app.app_context():
        from cityapp.content.models import NewsItem
        from cityapp.content.service import news

        draft = db.session.scalar(db.select(NewsItem).where(NewsItem.status == "draft"))
        news.update_news(CLI, draft, title={"de": "Noch ein Entwurf"})
        db.session.commit()
    assert _get(device).get_json()["version"] == v0
    mine = make_news(district_ids=[districts["altstadt"]])
    v1 = _get(device).get_json()["version"]
    assert v1 != v0
    with app.app_context():
        from cityapp.content.models import NewsItem
        from cityapp.content.service import news

        news.update_news(CLI, db.session.get(NewsItem, mine), title={"de": "Geändert"})
        db.session.commit()
    body = _get(device).get_json()
    assert body["version"] != v1
    assert [i["title"]["de"] for i in body["items"] if i["id"] == f"news:{mine}"] == ["Geändert"]


def test_look_ahead_items_and_next_change_at(pair, make_news):
    device = pair()
    now = utcnow()
    soon = make_news(publish_at=now + timedelta(hours=3), unpublish_at=now + timedelta(hours=5))
    make_news(title={"de": "Zu weit weg"}, publish_at=now + timedelta(hours=60))
    ends = make_news(unpublish_at=now + timedelta(hours=1))
    body = _get(device).get_json()
    assert _ids(body) == {f"news:{soon}", f"news:{ends}"}
    upcoming = next(i for i in body["items"] if i["id"] == f"news:{soon}")
    assert upcoming["valid_from"] > body["generated_at"]
    ending = next(i for i in body["items"] if i["id"] == f"news:{ends}")
    assert body["next_change_at"] == ending["valid_until"]


def test_media_are_referenced_with_size_and_listed_as_assets(app, pair, make_news):
    from cityapp.media import service as media

    buffer = io.BytesIO()
    Image.new("RGB", (2000, 1000), (10, 120, 200)).save(buffer, format="JPEG")
    with app.app_context():
        asset, _ = media.store_image(CLI, buffer.getvalue())
        db.session.commit()
        sha = asset.sha256
    make_news(images=[{"sha256": sha, "alt": {"de": "Ein blaues Bild"}}])
    device = pair()
    body = _get(device).get_json()
    [entry] = body["items"][0]["media"]
    assert entry["sha256"] == sha and entry["url"] == f"/media/{sha}/display"
    assert entry["mime"] == "image/jpeg" and entry["width"] == 1600 and entry["height"] == 800
    assert entry["size"] > 0 and entry["alt"] == {"de": "Ein blaues Bild"}
    assert body["assets"] == [sha]
    served = app.test_client().get(entry["url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"


def test_stele_polls_are_items_for_their_districts(app, pair, districts):
    alt = pair("Alt", district_id=districts["altstadt"])
    ober = pair("Ober", district_id=districts["oberdorf"])
    with app.app_context():
        poll = stele_poll(district_ids=[districts["altstadt"]])
        stele_poll(channels=["app"])  # not for steles
    body = _get(alt).get_json()
    [item] = [i for i in body["items"] if i["kind"] == "poll"]
    assert item["id"] == f"poll:{poll.id}" and item["duration_s"] == 25
    assert item["poll"] == {
        "survey_id": poll.id,
        "question": {"de": "Mehr Bänke am Markt?"},
        "options": [
            {"id": poll.o["q"][0], "label": {"de": "Ja"}},
            {"id": poll.o["q"][1], "label": {"de": "Nein"}},
        ],
    }
    assert [i for i in _get(ober).get_json()["items"] if i["kind"] == "poll"] == []


def test_device_settings_change_durations_and_version(pair, admin_client, make_news):
    device = pair()
    make_news()
    before = _get(device).get_json()
    etag = admin_client.get(f"/api/v1/staff/devices/{device.id}").headers["ETag"]
    response = admin_client.patch(
        f"/api/v1/staff/devices/{device.id}",
        json={"settings": {"durations": {"news": 40}}},
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.get_json()
    after = _get(device, **{"If-None-Match": f'"{before["version"]}"'})
    assert after.status_code == 200
    assert after.get_json()["items"][0]["duration_s"] == 40
    assert after.get_json()["device"]["settings"] == {"durations": {"news": 40}}


def test_unknown_and_revoked_secrets_get_401_and_no_cookie(app, pair, admin_client):
    device = pair()
    for headers in (
        {},
        {"Authorization": "Bearer cad_not-a-real-secret"},
        {"Authorization": "Basic Zm9vOmJhcg=="},
    ):
        response = app.test_client().get("/api/device/v1/manifest", headers=headers)
        assert_problem(response, 401)
        assert "WWW-Authenticate" in response.headers
    ok = _get(device)
    assert ok.status_code == 200 and "Set-Cookie" not in ok.headers
    assert (
        admin_client.post(f"/api/v1/staff/devices/{device.id}/revoke", json={}).status_code == 200
    )
    revoked = _get(device)
    assert_problem(revoked, 401)
    assert revoked.headers["WWW-Authenticate"].startswith("Bearer")
    # A device secret is no staff credential.
    assert device.client.get("/api/v1/staff/devices").status_code in (401, 403)


def test_night_mode_boundary_drives_next_change_at(pair):
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    start = (utcnow() + timedelta(hours=2)).astimezone(berlin).replace(second=0, microsecond=0)
    end = start + timedelta(hours=1)
    night = {"days": list(range(7)), "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}
    device = pair(schedule={"operating_hours": [], "night_mode": [night]})
    body = _get(device).get_json()
    assert body["device"]["schedule"]["night_mode"] == [night]
    assert body["next_change_at"] == manifest.iso(start)


def test_polls_read_without_a_transaction_on_postgresql_and_rebuilds_write_in_one(
    app, database_url
):
    """On PostgreSQL the poll authenticates on a pooled DBAPI connection in autocommit, past
    the Session (no BEGIN/ROLLBACK round trips, no ORM layers); a 200 from the cache reads in
    autocommit too; a poll that rebuilds the cache writes inside a transaction."""
    import pytest
    from sqlalchemy import delete

    from cityapp.auth.models import AuditEntry
    from cityapp.kiosks.models import PairingRequest
    from cityapp.kiosks.service import pairing

    if not database_url.startswith("postgresql"):
        pytest.skip(
            "PostgreSQL only: the direct DBAPI lookup and autocommit reads exist only on "
            "PostgreSQL (SQLite polls take the session path tested above); it runs in the "
            "PostgreSQL pass of make test"
        )
    seen: list[tuple[str, bool]] = []

    def record(conn, _cursor, statement, *_args):
        seen.append((statement, conn.connection.driver_connection.autocommit))

    def poll(**extra):
        seen.clear()
        response = client.get("/api/device/v1/manifest", headers={**headers, **extra})
        return response, list(seen)

    with app.app_context():
        harness_session, engine = db.session, db.engine
        # The harness binds sessions to one connection; this needs a production session.
        db.session = db._make_scoped_session({})
    try:
        with app.app_context():
            started = pairing.start_pairing(
                model=None, player_version=None, screen_width=None, screen_height=None
            )
            device_id = pairing.claim_device(CLI, started.code, name="Autocommit").id
            secret = pairing.poll_pairing(started.pairing_id).device_secret
            db.session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
        client = app.test_client()
        event.listen(engine, "before_cursor_execute", record)
        try:
            built, statements = poll()
            assert built.status_code == 200
            # The lookup went past SQLAlchemy; what follows is the rebuild, in a transaction.
            assert not any("WHERE devices.secret_hash" in sql for sql, _ in statements)
            writes = [auto for sql, auto in statements if sql.startswith("UPDATE devices")]
            assert writes == [False], statements
            etag = built.headers["ETag"]
            again, statements = poll(**{"If-None-Match": etag})
            assert again.status_code == 304 and statements == []  # the direct lookup only
            cached, statements = poll()
            assert cached.status_code == 200 and cached.get_data() == built.get_data()
            assert [auto for _, auto in statements] == [True], statements  # body read
            with app.app_context():
                db.session.get(Device, device_id).status = "revoked"
                db.session.commit()
            revoked, _ = poll(**{"If-None-Match": etag})
            assert revoked.status_code == 401  # the direct lookup reads the live row
        finally:
            event.remove(engine, "before_cursor_execute", record)
        # Every pooled connection is back in transactional mode for the next request.
        pooled = [engine.raw_connection() for _ in range(engine.pool.checkedin())]
        assert pooled and all(c.driver_connection.autocommit is False for c in pooled)
        for connection in pooled:
            connection.close()
        with app.app_context():
            stored = db.session.get(Device, device_id)
            assert f'"{stored.manifest_version}"' == etag
    finally:
        with app.app_context():
            db.session.execute(delete(Device).where(Device.name == "Autocommit"))
            db.session.execute(delete(PairingRequest))
            # The ORM refuses to delete audit entries (append-only); these are the test's own.
            db.session.connection().execute(
                delete(AuditEntry.__table__).where(AuditEntry.__table__.c.object_type == "device")
            )
            db.session.commit()
            db.session.remove()
            db.session = harness_session
