"""The stele player in headless Chromium against a real gunicorn server: pairing, content,
polls, the alerts lane, the 401 rule, and playing on with the server stopped."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cityapp.demo import DEMO_PASSWORD
from tests.browser.conftest import screenshot
from tests.live import live_server

HEARTBEAT_S = 2
JITTER_PCT = 20
SERVER_ENV = {
    "CITYAPP_KIOSK_HEARTBEAT_S": str(HEARTBEAT_S),
    "CITYAPP_KIOSK_JITTER_PCT": str(JITTER_PCT),
    "CITYAPP_KIOSK_MANIFEST_POLL_S": "10",
    "CITYAPP_KIOSK_PAIRING_POLL_S": "1",
}
# "Within one heartbeat": the longest jittered interval, plus the manifest fetch and a
# render on a loaded CI machine.
ONE_HEARTBEAT_S = HEARTBEAT_S * (1 + JITTER_PCT / 100) + 3
WAIT_MS = 30_000
STAND_RE = re.compile(r"^Stand: \d{2}\.\d{2}\.\d{4} \d{2}:\d{2}$")


# --- fast checks of how the player is served (no browser) ------------------------------------


def test_player_files_are_served_with_their_types_under_the_strict_csp(client):
    page = client.get("/player/")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    # The app's CSP allows no inline code; the page must not need any.
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/player/player.js" defer>']
    assert "style=" not in html and "<style" not in html
    assert 'lang="de"' in html
    for name, mimetype in [
        ("player.js", "text/javascript"),
        ("player.css", "text/css"),
        ("sw.js", "text/javascript"),
    ]:
        response = client.get(f"/player/{name}")
        assert response.status_code == 200, name
        assert response.mimetype == mimetype
        assert response.headers["Cache-Control"] == "no-cache"
    worker = client.get("/player/sw.js")
    assert worker.headers["Service-Worker-Allowed"] == "/player/"
    # Conditional requests work, so a fleet's reloads cost little.
    etag = client.get("/player/player.js").headers["ETag"]
    assert client.get("/player/player.js", headers={"If-None-Match": etag}).status_code == 304


def test_only_the_player_files_are_served(client):
    assert client.get("/player/config.py").status_code == 404
    assert client.get("/player/..%2fplayer_views.py").status_code == 404
    assert client.get("/player").status_code == 308


# --- end to end in Chromium --------------------------------------------------------------------


class Server:
    """A live server the test can stop halfway through."""

    def __init__(self, tmp: Path) -> None:
        self._stack = ExitStack()
        self.url = self._stack.enter_context(live_server(tmp, SERVER_ENV))

    def stop(self) -> None:
        self._stack.close()


class Staff:
    """The staff API as an admin, through a session cookie and the CSRF token."""

    def __init__(self, base: str) -> None:
        import requests

        self.base = base
        self.session = requests.Session()
        response = self.session.post(
            base + "/api/v1/auth/login",
            json={"email": "admin@musterstadt.example", "password": DEMO_PASSWORD},
        )
        assert response.status_code == 200, response.text
        self.session.headers["X-CSRF-Token"] = response.json()["csrf_token"]

    def call(self, method: str, path: str, expect: int = 200, **kwargs):
        response = self.session.request(method, self.base + "/api/v1" + path, **kwargs)
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def district_id(self, name: str) -> int:
        districts = self.call("GET", "/staff/districts?limit=100")["items"]
        return next(d["id"] for d in districts if d["name"] == name)

    def announcement(self, district_id: int, *, publish: bool = True, **fields) -> dict:
        data = {
            "body": {"de": "<p>Text der Meldung.</p>"},
            "category": "public_safety",
            "channels": ["app", "stele"],
            "district_ids": [district_id],
            **fields,
        }
        item = self.call("POST", "/staff/announcements", 201, json=data)
        if publish:
            item = self.call("POST", f"/staff/announcements/{item['id']}/publish", json={})
        return item

    def claim(self, code: str, name: str, district_id: int) -> dict:
        device = self.call(
            "POST",
            "/staff/devices/claim",
            201,
            json={
                "code": code,
                "name": name,
                "district_id": district_id,
                "lat": 51.31,
                "lon": 9.45,
                "groups": ["test"],
            },
        )
        assert not {"device_secret", "secret", "secret_hash"} & set(device), device
        return device


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("stele"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def staff(server: Server) -> Staff:
    return Staff(server.url)


@pytest.fixture
def stele(browser) -> Iterator:
    """A portrait stele: 1080x1920 pixels (540x960 CSS pixels at scale 2), touch, Berlin."""
    context = browser.new_context(
        locale="de-DE",
        timezone_id="Europe/Berlin",
        viewport={"width": 540, "height": 960},
        device_scale_factor=2,
        has_touch=True,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    page.js_errors = errors
    yield page
    context.close()


def pair(page, staff: Staff, url: str, name: str, district_id: int) -> dict:
    page.goto(url + "/player/")
    code_box = page.get_by_test_id("pairing-code")
    code_box.wait_for(state="visible", timeout=WAIT_MS)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=pairing-code]').textContent.length >= 8",
        timeout=WAIT_MS,
    )
    # Read the code off the screen, as the person installing the stele does.
    code = code_box.inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z0-9]{8}", code), code
    device = staff.claim(code, name, district_id)
    page.get_by_test_id("stage").wait_for(state="visible", timeout=WAIT_MS)
    assert page.evaluate("localStorage.getItem('stele.secret')")
    return device


def real_errors(page) -> list[str]:
    """Script errors, not the browser's notes on refused requests (401s, server down)."""
    return [e for e in page.js_errors if "Failed to load resource" not in e]


def wait_for_title(page, title: str, timeout: int = 90_000) -> None:
    # Functions, not expressions: Playwright evaluates expressions with eval, which the
    # player's CSP (rightly) refuses.
    page.wait_for_function(
        "t => { const e = document.querySelector('[data-testid=item-title]');"
        " return e && !e.closest('[hidden]') && e.textContent === t; }",
        arg=title,
        timeout=timeout,
    )


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def png(width: int = 1600, height: int = 900) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (0, 90, 170)).save(buffer, "PNG")
    return buffer.getvalue()


slow = pytest.mark.slow


@slow
def test_a_revoked_stele_unpairs_only_after_three_rejections_over_ten_minutes(stele, staff, server):
    oberdorf = staff.district_id("Oberdorf")
    device = pair(stele, staff, server.url, "Stele Dorfplatz", oberdorf)
    stele.get_by_test_id("item-title").wait_for(timeout=WAIT_MS)
    staff.call("POST", f"/staff/devices/{device['id']}/revoke", json={})

    # Rejections pile up, but a few minutes of 401 do not wipe the pairing: it plays on.
    stele.wait_for_function(
        "() => (JSON.parse(localStorage.getItem('stele.rejections')) || {}).count >= 3",
        timeout=WAIT_MS,
    )
    assert stele.evaluate("document.body.dataset.state") == "stage"
    assert stele.evaluate("localStorage.getItem('stele.secret')")
    assert stele.get_by_test_id("item-title").is_visible()

    # The same rejections spread over more than ten minutes (the first one backdated): with
    # the next one the stele counts as unpaired and asks for a new code.
    stele.evaluate(
        "localStorage.setItem('stele.rejections',"
        " JSON.stringify({first: Date.now() - 11 * 60000, count: 2}))"
    )
    stele.get_by_test_id("pairing").wait_for(state="visible", timeout=WAIT_MS)
    stele.wait_for_function(
        "() => document.querySelector('[data-testid=pairing-code]').textContent.length >= 8",
        timeout=WAIT_MS,
    )
    assert stele.evaluate("localStorage.getItem('stele.secret')") is None
    assert stele.evaluate("localStorage.getItem('stele.manifest')") is None
    assert not real_errors(stele), stele.js_errors


@slow
def test_stele_pairs_plays_takes_over_for_an_emergency_and_plays_on_offline(stele, staff, server):
    altstadt = staff.district_id("Altstadt")
    # Content for the stele's district: an announcement and a pinned news item with a photo.
    staff.announcement(
        altstadt,
        title={"de": "Wochenmarkt zieht auf den Kirchplatz"},
        category="event",
        level="info",
    )
    image = staff.call(
        "POST", "/staff/media", 201, files={"file": ("markt.png", png(), "image/png")}
    )
    news = staff.call(
        "POST",
        "/staff/news",
        201,
        json={
            "title": {"de": "Neue Bänke am Marktplatz"},
            "summary": {"de": "Zwölf Sitzplätze mehr im Schatten."},
            "body": {"de": "<p>Der Bauhof hat neue Bänke aufgestellt.</p>"},
            "category": "rathaus",
            "images": [{"sha256": image["sha256"], "alt": {"de": "Marktplatz mit Bänken"}}],
            "district_ids": [altstadt],
            "is_pinned": True,
        },
    )
    staff.call("POST", f"/staff/news/{news['id']}/publish", json={})

    # Pairing: the code is on the screen in large type until staff claim it.
    stele.goto(server.url + "/player/")
    stele.get_by_test_id("pairing-code").wait_for(state="visible", timeout=WAIT_MS)
    stele.wait_for_function(
        "() => document.querySelector('[data-testid=pairing-code]').textContent.length >= 8",
        timeout=WAIT_MS,
    )
    font_px = stele.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('[data-testid=pairing-code]'))"
        ".fontSize)"
    )
    assert font_px >= 60  # CSS pixels on a 540-wide viewport: 120+ device pixels
    screenshot(stele, "stele-pairing")
    code = stele.get_by_test_id("pairing-code").inner_text().replace(" ", "")
    device = staff.claim(code, "Stele Marktplatz", altstadt)
    # Short display times, so the test sees the whole rotation quickly.
    staff.call(
        "PATCH",
        f"/staff/devices/{device['id']}",
        json={"settings": {"durations": {"announcement": 3, "news": 3, "poll": 3}}},
    )

    # It plays the district's content in order, with the municipality-wide warning of the
    # demo data as a banner on top.
    stele.get_by_test_id("stage").wait_for(state="visible", timeout=WAIT_MS)
    wait_for_title(stele, "Wochenmarkt zieht auf den Kirchplatz")
    banner = stele.get_by_test_id("alert-banner")
    banner.wait_for(state="visible", timeout=WAIT_MS)
    assert "Sturmböen" in banner.inner_text()
    assert stele.get_by_test_id("place").inner_text() == "Altstadt"
    wait_for_title(stele, "Neue Bänke am Marktplatz")
    image_el = stele.get_by_test_id("item-image")
    image_el.wait_for(state="visible", timeout=WAIT_MS)
    stele.wait_for_function(
        "() => document.querySelector('[data-testid=item-image]').naturalWidth > 0", timeout=WAIT_MS
    )
    assert image_el.get_attribute("alt") == "Marktplatz mit Bänken"
    assert stele.get_by_test_id("stand-hint").is_hidden()
    screenshot(stele, "stele-playing")

    # The demo's stele poll: a tap votes through the device API, then "Danke".
    option = stele.get_by_test_id("poll-option").filter(has_text="Ja")
    option.wait_for(state="visible", timeout=90_000)
    screenshot(stele, "stele-poll")
    option.tap()
    thanks = stele.get_by_test_id("poll-thanks")
    thanks.wait_for(state="visible", timeout=WAIT_MS)
    assert "Danke!" in thanks.inner_text()
    assert stele.evaluate("localStorage.getItem('stele.votes')") in (None, "[]")

    # An emergency for the district takes over the screen within one heartbeat ...
    emergency = staff.announcement(
        altstadt,
        title={"de": "Bombenfund: Altstadt räumen"},
        body={"de": "<p>Im Bereich Brückenstraße wurde ein Blindgänger gefunden.</p>"},
        instruction={"de": "Verlassen Sie sofort die Altstadt Richtung Stadtpark."},
        level="emergency",
        valid_from=iso(datetime.now(UTC) - timedelta(minutes=1)),
        valid_until=iso(datetime.now(UTC) + timedelta(hours=6)),
    )
    published = time.monotonic()
    takeover = stele.get_by_test_id("alert-takeover")
    takeover.wait_for(state="visible", timeout=WAIT_MS)
    took = time.monotonic() - published
    assert took <= ONE_HEARTBEAT_S, f"takeover after {took:.1f} s"
    assert "Bombenfund: Altstadt räumen" in takeover.inner_text()
    assert "Richtung Stadtpark" in takeover.inner_text()
    assert stele.get_by_test_id("stage").is_hidden()
    screenshot(stele, "stele-alert-takeover")

    # ... and cancelling it clears it just as fast.
    staff.call(
        "POST", f"/staff/announcements/{emergency['id']}/cancel", json={"reason": "Entschärft"}
    )
    cancelled = time.monotonic()
    takeover.wait_for(state="hidden", timeout=WAIT_MS)
    took = time.monotonic() - cancelled
    assert took <= ONE_HEARTBEAT_S, f"cleared after {took:.1f} s"
    stele.get_by_test_id("item-title").wait_for(state="visible", timeout=WAIT_MS)

    # Server gone: after a reload the stele still plays its last content and says how old
    # it is.
    stele.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=WAIT_MS)
    server.stop()
    stele.reload()
    stele.get_by_test_id("item-title").wait_for(state="visible", timeout=WAIT_MS)
    stand = stele.get_by_test_id("stand-hint")
    stand.wait_for(state="visible", timeout=WAIT_MS)
    assert STAND_RE.match(stand.inner_text()), stand.inner_text()
    assert stele.get_by_test_id("alert-takeover").is_hidden()
    # The photo comes from the service worker's cache.
    wait_for_title(stele, "Neue Bänke am Marktplatz")
    stele.wait_for_function(
        "() => document.querySelector('[data-testid=item-image]').naturalWidth > 0", timeout=WAIT_MS
    )
    screenshot(stele, "stele-offline")
    assert not real_errors(stele), stele.js_errors
