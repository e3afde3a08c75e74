"""Stele test helpers: districts, paired devices (through the real API), content and polls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from cityapp.auth.service.actors import CLI
from cityapp.db import db
from tests.conftest import ApiClient
from tests.content.conftest import (  # noqa: F401 - fixtures shared with content tests
    announcement_data,
    make_announcement,
    make_news,
    media_dir,
    news_data,
    square,
)
from tests.surveys.conftest import create_survey_with, t


@dataclass
class Paired:
    id: int
    secret: str
    client: ApiClient  # sends the device secret


@pytest.fixture
def districts(app: Flask) -> dict[str, int]:
    from cityapp.content.service.districts import create_district

    with app.app_context():
        a = create_district(CLI, slug="altstadt", name="Altstadt", polygon=square(9.44, 51.30))
        b = create_district(CLI, slug="oberdorf", name="Oberdorf", polygon=square(9.46, 51.30))
        db.session.commit()
        return {"altstadt": a.id, "oberdorf": b.id}


def start_pairing(client) -> dict:
    response = client.post(
        "/api/device/v1/pairing",
        json={
            "model": "Teststele",
            "screen": {"width": 1080, "height": 1920},
            "player_version": "1.0.0",
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def pair(app: Flask, admin_client: ApiClient):
    """Pair a device end to end: code → staff claim → secret collected once."""

    def factory(name: str = "Marktplatz", **claim: Any) -> Paired:
        device_client = app.test_client()
        started = start_pairing(device_client)
        response = admin_client.post(
            "/api/v1/staff/devices/claim", json={"code": started["code"], "name": name, **claim}
        )
        assert response.status_code == 201, response.get_json()
        collected = device_client.get(f"/api/device/v1/pairing/{started['pairing_id']}")
        assert collected.status_code == 200, collected.get_json()
        body = collected.get_json()
        secret = body["device_secret"]
        return Paired(
            id=body["device_id"],
            secret=secret,
            client=ApiClient(app.test_client(), {"Authorization": f"Bearer {secret}"}),
        )

    return factory


def stele_poll(**settings: Any):
    """A published stele poll (one single-choice question); call inside an app context."""
    settings.setdefault("channels", ["stele"])
    settings.setdefault("title", t("Bänke"))
    return create_survey_with(
        [
            (
                "q",
                {
                    "type": "single_choice",
                    "title": t("Mehr Bänke am Markt?"),
                    "options": [{"label": t("Ja")}, {"label": t("Nein")}],
                },
            )
        ],
        **settings,
    )
