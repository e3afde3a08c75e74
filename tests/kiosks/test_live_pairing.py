"""Pairing under real concurrency: gunicorn with two workers on the suite's database, many
steles and racing requests at once (the in-process tests run one request at a time)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
import requests

from cityapp.demo import DEMO_PASSWORD
from tests.live import live_server

DEVICE_API = "/api/device/v1"
UNLIMITED = {
    "CITYAPP_KIOSK_PAIRING_RATE_LIMIT": "100000 per minute",
    "CITYAPP_KIOSK_PAIRING_POLL_RATE_LIMIT": "100000 per minute",
    "CITYAPP_KIOSK_CLAIM_RATE_LIMIT": "100000 per minute",
}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("pairing"), UNLIMITED) as url:
        yield url


@pytest.fixture(scope="module")
def admin(base: str) -> requests.Session:
    session = requests.Session()
    login = session.post(
        f"{base}/api/v1/auth/login",
        json={"email": "admin@musterstadt.example", "password": DEMO_PASSWORD},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    session.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    return session


def _start(base: str) -> dict:
    response = requests.post(f"{base}{DEVICE_API}/pairing", json={"model": "live"}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def _claim(base: str, admin: requests.Session, code: str, name: str) -> requests.Response:
    return admin.post(
        f"{base}/api/v1/staff/devices/claim", json={"code": code, "name": name}, timeout=30
    )


def _collect(base: str, pairing_id: str) -> requests.Response:
    return requests.get(f"{base}{DEVICE_API}/pairing/{pairing_id}", timeout=30)


def test_many_steles_collect_their_secrets_at_once(base, admin):
    started = [_start(base) for _ in range(24)]
    for number, pairing in enumerate(started):
        assert _claim(base, admin, pairing["code"], f"Welle {number}").status_code == 201
    barrier = Barrier(8)

    def collect(pairing: dict) -> requests.Response:
        if pairing in started[:8]:
            barrier.wait(timeout=30)  # the first eight leave together
        return _collect(base, pairing["pairing_id"])

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(collect, started))
    # Collecting writes inside a GET: on SQLite it must queue for the lock, not fail.
    assert [r.status_code for r in results] == [200] * len(started), [
        r.text for r in results if r.status_code != 200
    ]
    secrets_ = {r.json()["device_secret"] for r in results}
    assert len(secrets_) == len(started)
    for secret in list(secrets_)[:3]:
        manifest = requests.get(
            f"{base}{DEVICE_API}/manifest",
            headers={"Authorization": f"Bearer {secret}"},
            timeout=30,
        )
        assert manifest.status_code == 200


def test_racing_collects_hand_the_secret_out_once(base, admin):
    pairing = _start(base)
    assert _claim(base, admin, pairing["code"], "Wettlauf").status_code == 201
    barrier = Barrier(6)

    def collect(_: int) -> requests.Response:
        barrier.wait(timeout=30)
        return _collect(base, pairing["pairing_id"])

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(collect, range(6)))
    assert Counter(r.status_code for r in results) == {200: 1, 410: 5}


def test_racing_claims_of_one_code_make_one_device(base, admin):
    pairing = _start(base)
    barrier = Barrier(4)

    def claim(number: int) -> requests.Response:
        # One session per thread (requests.Session is not thread-safe), same staff login.
        own = requests.Session()
        own.cookies.update(admin.cookies)
        own.headers.update(admin.headers)
        barrier.wait(timeout=30)
        return _claim(base, own, pairing["code"], f"Doppelt {number}")

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(claim, range(4)))
    codes = Counter(r.status_code for r in results)
    assert codes[201] == 1, [(r.status_code, r.text) for r in results]
    # The losers see the code taken (409) or already gone from the pool (404).
    assert codes[409] + codes[404] == 3
    listed = admin.get(f"{base}/api/v1/staff/devices?limit=100").json()["items"]
    assert sum(d["name"].startswith("Doppelt") for d in listed) == 1


def test_polls_against_the_real_server_revalidate_and_notice_a_revocation(base, admin):
    """The poll's lookup path in production (on PostgreSQL a pooled DBAPI connection past the
    Session): 200 with an ETag, 304 with it, and 401 as soon as staff revoke the stele."""
    pairing = _start(base)
    claimed = _claim(base, admin, pairing["code"], "Abfrage")
    assert claimed.status_code == 201
    secret = _collect(base, pairing["pairing_id"]).json()["device_secret"]
    auth = {"Authorization": f"Bearer {secret}"}
    url = f"{base}{DEVICE_API}/manifest"
    first = requests.get(url, headers=auth, timeout=30)
    assert first.status_code == 200 and first.json()["device"]["name"] == "Abfrage"
    etag = first.headers["ETag"]
    for _ in range(3):  # across both workers and several pooled connections
        again = requests.get(url, headers={**auth, "If-None-Match": etag}, timeout=30)
        assert again.status_code == 304 and again.headers["ETag"] == etag
    assert requests.get(url, headers=auth, timeout=30).content == first.content
    revoked = admin.post(
        f"{base}/api/v1/staff/devices/{claimed.json()['id']}/revoke", json={}, timeout=30
    )
    assert revoked.status_code == 200, revoked.text
    gone = requests.get(url, headers={**auth, "If-None-Match": etag}, timeout=30)
    assert gone.status_code == 401
