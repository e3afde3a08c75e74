"""Media pipeline: decoding, bomb limits, metadata removal, content addressing, serving."""

from __future__ import annotations

import io
import json

from PIL import Image

from tests.conftest import assert_problem

GPS_IFD = 0x8825


def _jpeg_with_gps(size=(2400, 1200)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "Kamerahersteller"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° CW to display
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 18.0, 30.0), 3: "E", 4: (9.0, 27.0, 0.0)})
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, icc_profile=b"\0" * 128, comment=b"secret")
    return buffer.getvalue()


def _png(size=(64, 48), **info) -> bytes:
    from PIL import PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    for key, value in info.items():
        meta.add_text(key, value)
    buffer = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 255, 128)).save(buffer, format="PNG", pnginfo=meta)
    return buffer.getvalue()


def _upload(client, data: bytes, name="bild.jpg", mimetype="image/jpeg"):
    return client.post(
        "/api/v1/staff/media",
        data={"file": (io.BytesIO(data), name, mimetype)},
        content_type="multipart/form-data",
    )


def test_upload_strips_gps_and_all_metadata_and_applies_orientation(editor_client, client):
    original = _jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the input has GPS
    response = _upload(editor_client, original)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["mime_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == (1200, 2400)  # turned upright
    assert set(body["variants"]) == {"thumbnail", "display"}
    assert (
        max(body["variants"]["thumbnail"]["width"], body["variants"]["thumbnail"]["height"]) == 400
    )
    assert body["variants"]["display"]["height"] == 1600
    for url in [body["url"], *(v["url"] for v in body["variants"].values())]:
        served = client.get(url.replace("http://127.0.0.1:8000", ""))
        assert served.status_code == 200
        assert b"Kamerahersteller" not in served.data and b"secret" not in served.data
        image = Image.open(io.BytesIO(served.data))
        assert not image.getexif(), dict(image.getexif())
        assert "icc_profile" not in image.info and "exif" not in image.info
        assert "comment" not in image.info
    again = _upload(editor_client, original)
    assert again.status_code == 200 and again.get_json()["sha256"] == body["sha256"]


def test_png_text_chunks_are_removed_and_alpha_kept(editor_client, client):
    response = _upload(
        editor_client, _png(Author="Erika", Location="51.3,9.4"), "a.png", "image/png"
    )
    assert response.status_code == 201, response.get_json()
    served = client.get(f"/media/{response.get_json()['sha256']}")
    image = Image.open(io.BytesIO(served.data))
    assert image.mode == "RGBA" and not getattr(image, "text", {})
    assert served.mimetype == "image/png"


def test_media_serving_is_immutable_with_strong_etag_and_ranges(editor_client, client):
    sha = _upload(editor_client, _png()).get_json()["sha256"]
    response = client.get(f"/media/{sha}/thumbnail")
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert client.get(f"/media/{sha}/thumbnail", headers={"If-None-Match": etag}).status_code == 304
    ranged = client.get(f"/media/{sha}", headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206 and len(ranged.data) == 10
    assert ranged.headers["Content-Range"].startswith("bytes 0-9/")
    assert_problem(client.get(f"/media/{sha}/huge"), 404)
    assert_problem(client.get("/media/" + "0" * 64), 404)
    assert_problem(client.get("/media/../../etc/passwd"), 404)


def test_fake_truncated_and_bomb_images_are_refused(editor_client, app, media_dir):
    pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
    assert_problem(_upload(editor_client, pdf, "rechnung.jpg"), 415, field="file")
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    assert_problem(_upload(editor_client, gif.getvalue(), "a.gif", "image/gif"), 415, field="file")
    truncated = _jpeg_with_gps((800, 600))[:3000]
    assert_problem(_upload(editor_client, truncated), 422, field="file")
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, format="PNG")  # ~60 KB file, 400 MP decoded
    assert len(bomb.getvalue()) < 200_000
    assert_problem(_upload(editor_client, bomb.getvalue(), "b.png", "image/png"), 422, field="file")
    assert_problem(_upload(editor_client, b"", "empty.jpg"), 422)
    assert_problem(
        editor_client.post("/api/v1/staff/media", data={}, content_type="multipart/form-data"),
        422,
        field="file",
    )
    assert not media_dir.exists() or not any(media_dir.rglob("original"))


def test_oversized_uploads_are_413(editor_client, app):
    previous = app.config["CITYAPP_MAX_IMAGE_BYTES"]
    app.config["CITYAPP_MAX_IMAGE_BYTES"] = 1000
    try:
        assert_problem(_upload(editor_client, _jpeg_with_gps((300, 300))), 413)
    finally:
        app.config["CITYAPP_MAX_IMAGE_BYTES"] = previous
    big = b"\xff\xd8" + b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    # The multipart body built by hand: werkzeug's test client would spool so large a body to
    # a temporary file that it never closes when the app answers before reading it.
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="bild.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + big + b"\r\n--b--\r\n"
    )
    response = editor_client.post(
        "/api/v1/staff/media", data=body, content_type="multipart/form-data; boundary=b"
    )
    assert_problem(response, 413)


def test_only_editors_upload(moderator_client, client):
    assert_problem(_upload(moderator_client, _png()), 403)
    assert_problem(_upload(client, _png()), 401)


def test_news_images_need_known_media_and_german_alt_text(editor_client, client):
    from tests.content.conftest import news_data

    sha = _upload(editor_client, _png()).get_json()["sha256"]
    no_alt = news_data(images=[{"sha256": sha, "alt": {"en": "Picture"}}])
    assert_problem(
        editor_client.post("/api/v1/staff/news", json=no_alt), 422, field="images.0.alt.de"
    )
    data = news_data(images=[{"sha256": sha, "alt": {"de": "Blaues Bild", "en": "Blue picture"}}])
    created = editor_client.post("/api/v1/staff/news", json=data).get_json()
    editor_client.post(f"/api/v1/staff/news/{created['id']}/publish")
    public = client.get(f"/api/v1/news/{created['id']}?lang=en").get_json()
    image = public["images"][0]
    assert image["alt"] == "Blue picture" and image["url"].endswith(f"/media/{sha}")
    assert image["thumbnail_url"].endswith("/thumbnail") and image["width"] == 64


def test_files_of_failed_uploads_are_swept_once_old_enough(app, media_dir):
    """An upload whose transaction rolls back leaves content-addressed files without a row:
    the sweep deletes them after the grace period, and never touches referenced media."""
    import os
    import time

    from cityapp.auth.service.actors import CLI
    from cityapp.db import db, utcnow
    from cityapp.media import service as media
    from cityapp.scheduler import get_job
    from cityapp.scheduling import run_guarded

    with app.app_context():
        kept, _ = media.store_image(CLI, _png((40, 30)))
        db.session.commit()
        kept_sha = kept.sha256
        lost, _ = media.store_image(CLI, _png((50, 20)))
        lost_sha = lost.sha256
        db.session.rollback()  # e.g. the report it belonged to failed validation afterwards
        storage = media.get_storage()
        assert storage.exists(f"{lost_sha}/original") and storage.exists(f"{lost_sha}/display")

        assert media.purge_orphan_files(min_age_s=3600) == 0  # young: maybe still in flight
        later = time.time() + 2 * 3600
        assert media.purge_orphan_files(later, min_age_s=3600) == 1
        assert not storage.exists(f"{lost_sha}/original")
        assert not (media_dir / lost_sha[:2] / lost_sha).exists()
        assert storage.exists(f"{kept_sha}/original") and storage.exists(f"{kept_sha}/thumbnail")

        # The scheduled job does the same with the configured grace period.
        again, _ = media.store_image(CLI, _png((50, 20)))
        db.session.rollback()
        old = time.time() - 2 * 3600
        directory = media_dir / again.sha256[:2] / again.sha256
        for path in [*directory.iterdir(), directory]:
            os.utime(path, (old, old))
        run = run_guarded(get_job("media.orphans"), utcnow())
        assert run.status == "succeeded" and json.loads(run.result)["orphan_media_purged"] == 1
        assert not storage.exists(f"{again.sha256}/original")
        assert storage.exists(f"{kept_sha}/original")


def test_uploading_content_again_marks_its_files_fresh(app, media_dir):
    """Re-uploading bytes whose files are still on disk refreshes their time, so a sweep
    running meanwhile does not delete files an upload is about to reference."""
    import os
    import time

    from cityapp.media.service import get_storage

    with app.app_context():
        storage = get_storage()
        sha = "ab" * 32
        storage.put(f"{sha}/original", b"bytes")
        path = media_dir / "ab" / sha / "original"
        old = time.time() - 7200
        os.utime(path, (old, old))
        os.utime(path.parent, (old, old))
        assert dict(storage.stored())[sha] < time.time() - 3600
        storage.put(f"{sha}/original", b"bytes")
        assert path.stat().st_mtime > time.time() - 60
        assert dict(storage.stored())[sha] > time.time() - 60
