"""The shipped gunicorn.conf.py against a real gunicorn: no secret reaches its logs, and the app
answers over-long query strings itself (problem+json 414) before gunicorn's own limit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request

import pytest

from cityapp.logs import redact
from tests.live import BIN, REPO, _env, flask, free_port, fresh_database, wait_until_healthy

SECRETS = {
    "track": "crt_TrackSecret0123456789abcdef",
    "pairing": "cap_PairSecret0123456789abcdef",
    "open311": "Open311Secret0123456789",
    "api_key": "ApiKeySecret0123456789",
    "token": "cat_StaffSecret0123456789abcdef",
}


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_redact_covers_paths_query_parameters_and_prefixed_values():
    assert redact("/api/v1/reports/track/crt_abcdefgh/comments") == (
        "/api/v1/reports/track/[redacted]/comments"
    )
    assert redact("GET /api/device/v1/pairing/cap_abcdefgh HTTP/1.1") == (
        "GET /api/device/v1/pairing/[redacted] HTTP/1.1"
    )
    assert redact("/open311/v2/tokens/abc123.json") == "/open311/v2/tokens/[redacted].json"
    assert redact("api_key=s3cret&lat=51.3") == "api_key=[redacted]&lat=51.3"
    assert redact("/x?lat=1&Token=abc&key=k") == "/x?lat=1&Token=[redacted]&key=[redacted]"
    assert redact("Bearer cai_abcdefghij") == "Bearer cai_[redacted]"
    assert redact("/api/v1/news?limit=5") == "/api/v1/news?limit=5"


@pytest.mark.slow
def test_shipped_gunicorn_config_keeps_secrets_out_of_its_logs(tmp_path):
    with fresh_database(tmp_path) as database_url:
        port = free_port()
        env = _env(
            database_url,
            tmp_path / "instance",
            {"CITYAPP_BIND": f"127.0.0.1:{port}", "CITYAPP_WORKERS": "1"},
        )
        flask(["db", "upgrade"], env)
        log_path = tmp_path / "gunicorn.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=REPO,
                env={**env, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            base = f"http://127.0.0.1:{port}"
            try:
                wait_until_healthy(base, process, log_path)
                _get(f"{base}/api/v1/reports/track/{SECRETS['track']}")
                _get(f"{base}/api/v1/reports/track/{SECRETS['track']}/comments")
                _get(f"{base}/api/device/v1/pairing/{SECRETS['pairing']}")
                _get(f"{base}/open311/v2/tokens/{SECRETS['open311']}.json")
                _get(
                    f"{base}/api/v1/news?api_key={SECRETS['api_key']}&token={SECRETS['token']}",
                    headers={"Referer": f"{base}/api/v1/reports/track/{SECRETS['track']}"},
                )
                # Over the app's query limit, under gunicorn's request-line limit: the app's 414.
                status, headers, body = _get(f"{base}/api/v1/news?q={'x' * 5000}")
                assert status == 414
                assert headers["Content-Type"] == "application/problem+json"
                assert json.loads(body)["status"] == 414
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=15)
    logged = log_path.read_text()
    assert "/api/v1/reports/track/[redacted]" in logged, logged
    assert "/api/device/v1/pairing/[redacted]" in logged, logged
    for name, secret in SECRETS.items():
        assert secret not in logged, f"{name} secret in the gunicorn log:\n{logged}"
