"""Resident mail through the outbox: only with consent, after commit, German text + HTML
with a working tracking link, delivered once SMTP comes back; the status signal."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy
from urllib.parse import urlparse

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from cityapp.db import db, utcnow
from cityapp.mail.jobs import send_due_mail
from cityapp.mail.models import MailMessage
from cityapp.signals import report_status_changed
from tests.live import free_port
from tests.mail.test_outbox import Inbox


@pytest.fixture
def smtp_port(app, monkeypatch) -> int:
    port = free_port()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "CITYAPP_MAIL_TIMEOUT_S", 5)
    return port


def _mail_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(MailMessage.id)))


def test_status_change_mail_smtp_down_then_up(app, category, submit, moderator_client, smtp_port):
    _, created = submit(contact={"email": "anna@example.org", "name": "Anna", "consent": True})
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs)

    report_status_changed.connect(listener)
    try:
        response = moderator_client.post(
            f"/api/v1/staff/reports/{created['id']}/status",
            json={"status": "acknowledged", "public_note": "Der Bauhof kommt am Montag."},
        )
    finally:
        report_status_changed.disconnect(listener)
    assert response.status_code == 200
    assert received and received[0]["to_status"] == "acknowledged"
    assert received[0]["report_id"] == created["id"]
    with app.app_context():
        now = utcnow()
        assert send_due_mail(now=now)["retry"] == 1  # SMTP is down
        message = db.session.scalar(select(MailMessage))
        assert message.status == "queued" and message.topic == "report"
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        try:
            assert send_due_mail(now=now + timedelta(seconds=61))["sent"] == 1
            assert send_due_mail(now=now + timedelta(hours=3))["sent"] == 0  # never twice
        finally:
            controller.stop()
    [(recipients, raw)] = inbox.messages
    assert recipients == ["anna@example.org"]
    parsed = email.message_from_string(raw, policy=policy.default)
    assert f"Meldung Nr. {created['id']}" in parsed["Subject"]
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert "Guten Tag Anna" in text and "angenommen" in text
    assert "Der Bauhof kommt am Montag." in text and "Der Bauhof kommt am Montag." in html
    link = next(line for line in text.splitlines() if "/reports/track/" in line)
    assert link.endswith(created["tracking_token"])
    tracked = app.test_client().get(urlparse(link).path)
    assert tracked.status_code == 200 and tracked.get_json()["status"] == "acknowledged"


def test_no_mail_without_consent_or_for_internal_notes(app, category, submit, moderator_client):
    _, without = submit(contact={"email": "bob@example.org", "consent": False})
    moderator_client.post(
        f"/api/v1/staff/reports/{without['id']}/status", json={"status": "acknowledged"}
    )
    assert _mail_count(app) == 0
    _, with_consent = submit(contact={"email": "c@example.org", "consent": True})
    moderator_client.post(
        f"/api/v1/staff/reports/{with_consent['id']}/notes", json={"internal_note": "intern"}
    )
    assert _mail_count(app) == 0
    moderator_client.post(
        f"/api/v1/staff/reports/{with_consent['id']}/notes", json={"public_note": "Info"}
    )
    assert _mail_count(app) == 1


def test_failed_transition_queues_no_mail(app, category, submit, moderator_client):
    _, created = submit(contact={"email": "d@example.org", "consent": True})
    response = moderator_client.post(
        f"/api/v1/staff/reports/{created['id']}/status", json={"status": "resolved"}
    )
    assert response.status_code == 409
    assert _mail_count(app) == 0


def test_merged_reporter_hears_about_the_original(app, category, submit, moderator_client):
    _, original = submit()
    _, duplicate = submit(contact={"email": "e@example.org", "consent": True})
    moderator_client.post(
        f"/api/v1/staff/reports/{duplicate['id']}/merge", json={"original_id": original["id"]}
    )
    assert _mail_count(app) == 1  # "already known, you now follow the original"
    moderator_client.post(
        f"/api/v1/staff/reports/{original['id']}/status", json={"status": "acknowledged"}
    )
    assert _mail_count(app) == 2
