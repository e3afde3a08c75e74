"""Feedback test helpers: categories, images, submitting reports via the API."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image, ImageDraw

from cityapp.auth.service.actors import CLI
from cityapp.db import db

# Altstadt: 9.44-9.46 E, 51.30-51.32 N (inside CITYAPP_BBOX 9.38,51.24,9.54,51.38).
IN_ALTSTADT = (51.31, 9.45)
OUTSIDE = (52.52, 13.40)  # Berlin


def jpeg(color: str = "red", size: tuple[int, int] = (64, 48), exif_gps: bool = False) -> bytes:
    image = Image.new("RGB", size, color)
    # A sharp-edged stripe, so blurring visibly changes the picture.
    ImageDraw.Draw(image).rectangle((size[0] // 4, 0, size[0] // 2, size[1]), fill="white")
    buffer = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x8825] = {1: "N", 2: (51.0, 18.0, 0.0), 3: "E", 4: (9.0, 27.0, 0.0)}
        exif[0x010F] = "SpyCam"
        image.save(buffer, format="JPEG", exif=exif)
    else:
        image.save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def generous_rate_limits(app, monkeypatch):
    """Tests submit many reports; the rate-limit test sets its own small budgets."""
    monkeypatch.setitem(app.config, "CITYAPP_REPORT_RATE_LIMIT", "1000 per hour")
    monkeypatch.setitem(app.config, "CITYAPP_REPORT_IP_RATE_LIMIT", "1000 per hour")


def category_data(**overrides: Any) -> dict:
    data = {
        "code": "strassenschaeden",
        "name": {"de": "Straßenschäden", "en": "Road damage"},
        "description": {"de": "Schlaglöcher, Risse, lose Pflastersteine"},
        "group": "Straße und Verkehr",
        "keywords": ["schlagloch", "straße"],
        "department": "Tiefbauamt",
        "is_auto_publish": True,
        "attributes": [
            {
                "code": "gefahr",
                "datatype": "singlevaluelist",
                "required": True,
                "description": "Besteht akute Gefahr?",
                "values": [{"key": "ja", "name": "Ja"}, {"key": "nein", "name": "Nein"}],
            },
            {"code": "groesse_cm", "datatype": "number", "description": "Größe in cm"},
            {"code": "seit", "datatype": "datetime", "description": "Seit wann?"},
            {
                "code": "art",
                "datatype": "multivaluelist",
                "values": [{"key": "loch", "name": "Loch"}, {"key": "riss", "name": "Riss"}],
            },
            {"code": "notiz", "datatype": "text"},
            {"code": "ort", "datatype": "string"},
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_category(app):
    from cityapp.feedback.service.categories import create_category

    def factory(**overrides: Any) -> int:
        with app.app_context():
            category = create_category(CLI, **category_data(**overrides))
            db.session.commit()
            return category.id

    return factory


@pytest.fixture
def category(make_category, districts) -> str:
    make_category()
    return "strassenschaeden"


def report_body(**overrides: Any) -> dict:
    body = {
        "category": "strassenschaeden",
        "description": "Tiefes Schlagloch vor der Bäckerei in der Schwanstraße.",
        "lat": IN_ALTSTADT[0],
        "lon": IN_ALTSTADT[1],
        "attributes": {"gefahr": "ja"},
    }
    body.update(overrides)
    return body


@pytest.fixture
def submit(app):
    """POST a report as JSON (or multipart with photos) and return (response, body)."""

    def factory(client=None, photos: list[bytes] | None = None, **overrides: Any):
        client = client or app.test_client()
        body = report_body(**overrides)
        if photos is not None:
            data = {
                "data": json.dumps(body),
                "photos": [
                    (io.BytesIO(p), f"p{i}.jpg", "image/jpeg") for i, p in enumerate(photos)
                ],
            }
            response = client.post("/api/v1/reports", data=data, content_type="multipart/form-data")
        else:
            response = client.post("/api/v1/reports", json=body)
        return response, response.get_json()

    return factory


@pytest.fixture
def staff_actor(app, make_staff):
    """A moderator's id; use load_staff(id) inside an app context."""
    return make_staff("moderator").id


def load_staff(staff_id: int):
    from cityapp.auth.models import StaffUser

    return db.session.get(StaffUser, staff_id)
