"""Benchmark: 200 steles polling their manifests and heartbeating, against gunicorn (not a test).

Starts the app with gunicorn on a fresh database (the machinery of tests/live.py: migrate,
seed the demo, serve), pairs BENCH_DEVICES steles through the real device and staff APIs
(POST /pairing, staff claim, GET /pairing/<id>), then measures over HTTP, with
BENCH_CONCURRENCY client threads, each request type in turn and in interleaved rounds:

- trivial: ``GET /healthz`` (the floor: routing, hooks, no database);
- 304: ``GET /api/device/v1/manifest`` with the device's current ETag in ``If-None-Match``;
- 200: the same without ``If-None-Match`` (full body, from the per-device cache);
- heartbeat: ``POST /api/device/v1/heartbeat`` with the current versions;
- fleet mix: the 200 steles as they really poll (two heartbeats per manifest revalidation).

Every client thread walks through all devices, so each request authenticates a different
stele. Prints requests/s and p50/p99 latency per type and the 304/trivial throughput ratio
(target >= 0.7).

    python bench/kiosk_poll.py                       # SQLite file in a temp directory
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<db> python bench/kiosk_poll.py
        # a fresh database next to the given one, dropped afterwards

BENCH_DEVICES (200), BENCH_CONCURRENCY (8 client threads), BENCH_WORKERS (gunicorn workers,
default: CPU count), BENCH_SECONDS (per type and round, 3), BENCH_ROUNDS (4).
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cityapp.demo import DEMO_PASSWORD
from tests.live import live_server

DEVICES = int(os.environ.get("BENCH_DEVICES", "200"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 2)))
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "4"))
DEVICE_API = "/api/device/v1"
SERVER_ENV = {
    # Pairing 200 steles from one address is exactly the flood the limits are there to stop.
    "CITYAPP_KIOSK_PAIRING_RATE_LIMIT": "100000 per minute",
    "CITYAPP_KIOSK_PAIRING_POLL_RATE_LIMIT": "100000 per minute",
    "CITYAPP_KIOSK_CLAIM_RATE_LIMIT": "100000 per minute",
    "CITYAPP_LOG_LEVEL": "WARNING",
}


class Client:
    """Minimal HTTP/1.1 client (one connection per request: gunicorn's sync workers close)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body=None, headers=None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            all_headers = dict(headers or {})
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                all_headers["Content-Type"] = "application/json"
            if self.cookies:
                all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            payload = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            return response.status, response.headers, payload
        finally:
            connection.close()

    def json(self, method: str, path: str, body=None, headers=None, expect=(200,)):
        status, response_headers, payload = self.request(method, path, body, headers)
        if status not in expect:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {payload[:300]!r}")
        return (json.loads(payload) if payload else None), response_headers


def pair_devices(base: str, count: int) -> list[dict]:
    """Pair ``count`` steles the way real ones are paired: device asks, staff claims."""
    admin = Client(base)
    login, _ = admin.json(
        "POST",
        "/api/v1/auth/login",
        {"email": "admin@musterstadt.example", "password": DEMO_PASSWORD},
    )
    staff_headers = {"X-CSRF-Token": login["csrf_token"]}
    districts, _ = admin.json("GET", "/api/v1/staff/districts?limit=100")
    district_ids = [d["id"] for d in districts["items"]]

    def pair(number: int) -> dict:
        device = Client(base)
        pairing, _ = device.json(
            "POST",
            f"{DEVICE_API}/pairing",
            {"model": "bench", "screen": {"width": 1080, "height": 1920}, "player_version": "b"},
            expect=(201,),
        )
        admin.json(
            "POST",
            "/api/v1/staff/devices/claim",
            {
                "code": pairing["code"],
                "name": f"Bench-Stele {number:03d}",
                "district_id": district_ids[number % len(district_ids)],
                "lat": None,
                "lon": None,
                "groups": ["bench"],
            },
            headers=staff_headers,
            expect=(201,),
        )
        paired, _ = device.json("GET", f"{DEVICE_API}/pairing/{pairing['pairing_id']}")
        auth = {"Authorization": f"Bearer {paired['device_secret']}"}
        manifest, headers = device.json("GET", f"{DEVICE_API}/manifest", headers=auth)
        return {
            "auth": auth,
            "etag": headers["ETag"],
            "manifest_version": manifest["version"],
            "alert_version": manifest["alert_version"],
            "items": len(manifest["items"]),
            "bytes": len(json.dumps(manifest)),
        }

    # Side by side, as a fleet roll-out would: collecting a secret writes inside a GET, which
    # on SQLite must queue for the write lock (an error here fails the benchmark).
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        return list(pool.map(pair, range(count)))


def make_requests(base: str, devices: list[dict]) -> dict:
    """Each request type as call(client, device) -> bool (the expected status came back)."""

    def trivial(client, _device):
        return client.request("GET", "/healthz")[0] == 200

    def manifest_304(client, device):
        headers = {**device["auth"], "If-None-Match": device["etag"]}
        return client.request("GET", f"{DEVICE_API}/manifest", headers=headers)[0] == 304

    def manifest_200(client, device):
        return client.request("GET", f"{DEVICE_API}/manifest", headers=device["auth"])[0] == 200

    started = time.time()

    def heartbeat(client, device):
        body = {
            "manifest_version": device["manifest_version"],
            "alert_version": device["alert_version"],
            "player_version": "bench",
            "uptime_s": int(time.time() - started),
            "mode": "playing",
            "current_item": None,
            "screen_on": True,
            "errors": [],
            "command_results": [],
        }
        status, _headers, payload = client.request(
            "POST", f"{DEVICE_API}/heartbeat", body, device["auth"]
        )
        if status != 200:
            return False
        reply = json.loads(payload)
        return reply["manifest_version"] == device["manifest_version"]

    counter = {"n": 0}
    lock = threading.Lock()

    def fleet_mix(client, device):
        # A stele heartbeats every 30 s and revalidates its manifest every 60 s.
        with lock:
            counter["n"] += 1
            n = counter["n"]
        if n % 3 == 0:
            return manifest_304(client, device)
        return heartbeat(client, device)

    return {
        "trivial /healthz": trivial,
        "manifest 304": manifest_304,
        "manifest 200": manifest_200,
        "heartbeat": heartbeat,
        "fleet mix": fleet_mix,
    }


def run_phase(base: str, devices: list[dict], call, seconds: float) -> tuple[list[float], int]:
    """CONCURRENCY threads issue ``call`` back to back for ``seconds``; latencies in ms."""
    latencies: list[list[float]] = [[] for _ in range(CONCURRENCY)]
    failures = [0] * CONCURRENCY
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        client = Client(base)
        step = 0
        while time.perf_counter() < deadline:
            device = devices[(index + step * CONCURRENCY) % len(devices)]
            step += 1
            begun = time.perf_counter()
            ok = call(client, device)
            latencies[index].append((time.perf_counter() - begun) * 1000)
            if not ok:
                failures[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [x for per_thread in latencies for x in per_thread], sum(failures)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    dialect = (
        "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        live_server(Path(tmp), SERVER_ENV, workers=WORKERS) as base,
    ):
        began = time.perf_counter()
        devices = pair_devices(base, DEVICES)
        sizes = [d["bytes"] for d in devices]
        print(
            f"paired {len(devices)} steles in {time.perf_counter() - began:.1f} s; manifests "
            f"{min(sizes)}-{max(sizes)} bytes, {statistics.mean(d['items'] for d in devices):.1f}"
            " items on average",
            flush=True,
        )
        calls = make_requests(base, devices)
        for call in calls.values():  # warm up every worker's code path and connection pool
            run_phase(base, devices, call, 0.5)
        samples: dict[str, list[float]] = {name: [] for name in calls}
        elapsed: dict[str, float] = dict.fromkeys(calls, 0.0)
        failures: dict[str, int] = dict.fromkeys(calls, 0)
        names = list(calls)
        for round_no in range(ROUNDS):
            # Rotate the order so a change of machine load hits every type alike.
            order = names[round_no % len(names) :] + names[: round_no % len(names)]
            for name in order:
                begun = time.perf_counter()
                latencies, failed = run_phase(base, devices, calls[name], SECONDS)
                elapsed[name] += time.perf_counter() - begun
                samples[name].extend(latencies)
                failures[name] += failed
            print(f"round {round_no + 1}/{ROUNDS} done", flush=True)
    print(
        f"\n{dialect}, {DEVICES} steles, {CONCURRENCY} client threads, gunicorn -w {WORKERS}, "
        f"{ROUNDS} interleaved rounds of {SECONDS:g} s per type"
    )
    print(f"{'request':<18}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'failed':>8}")
    rates = {}
    for name in names:
        values = samples[name]
        rates[name] = len(values) / elapsed[name]
        print(
            f"{name:<18}{len(values):>10}{rates[name]:>10.0f}{percentile(values, 50):>10.2f}"
            f"{percentile(values, 99):>10.2f}{failures[name]:>8}"
        )
    ratio = rates["manifest 304"] / rates["trivial /healthz"]
    p50_ratio = percentile(samples["trivial /healthz"], 50) / percentile(
        samples["manifest 304"], 50
    )
    verdict = "met" if ratio >= 0.7 else "MISSED"
    print(f"304/trivial throughput ratio: {ratio:.2f} (target >= 0.7: {verdict})")
    print(f"trivial/304 p50 latency ratio: {p50_ratio:.2f}")
    if any(failures.values()):
        sys.exit("some requests did not get the expected status")


if __name__ == "__main__":
    main()
