"""The mail outbox against a real local SMTP server (aiosmtpd): sent once, after commit,
retried with backoff while the server is down, never twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from cityapp.db import db, utcnow
from cityapp.mail.jobs import send_due_mail
from cityapp.mail.models import MailMessage
from cityapp.mail.service import enqueue_mail
from tests.live import free_port


class Inbox:
    """An aiosmtpd handler that keeps what it receives; can refuse recipients for good."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []
        self.refuse = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8")))
        return "250 Message accepted"


@pytest.fixture
def smtp_port(app, monkeypatch) -> int:
    port = free_port()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "CITYAPP_MAIL_TIMEOUT_S", 5)
    return port


@pytest.fixture
def smtp_server(smtp_port) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def _queue(subject: str = "Stele offline: Markt") -> int:
    message = enqueue_mail(
        to=["admin@musterstadt.example", " admin@musterstadt.example "],
        subject=subject,
        body="Die Stele Markt meldet sich nicht mehr.\n",
        topic="test",
    )
    db.session.commit()
    return message.id


def test_queued_mail_is_sent_once(app, smtp_server):
    with app.app_context():
        message_id = _queue()
        assert send_due_mail() == {"sent": 1, "retry": 0, "failed": 0, "interrupted": 0}
        assert send_due_mail()["sent"] == 0, "never twice"
        message = db.session.get(MailMessage, message_id)
        assert message.status == "sent" and message.attempts == 1 and message.sent_at
    [(recipients, content)] = smtp_server.messages
    assert recipients == ["admin@musterstadt.example"]
    assert "Subject: Stele offline: Markt" in content
    assert "Die Stele Markt meldet sich nicht mehr." in content
    assert "Message-ID: <" in content


def test_mail_exists_only_if_the_transaction_commits(app, smtp_server):
    with app.app_context():
        enqueue_mail(to=["a@example.org"], subject="x", body="y")
        db.session.rollback()
        assert send_due_mail()["sent"] == 0
        assert db.session.scalar(select(MailMessage.id)) is None
    assert smtp_server.messages == []


def test_smtp_down_then_up_retries_with_backoff(app, smtp_port):
    with app.app_context():
        message_id = _queue()
        now = utcnow()
        first = send_due_mail(now=now)
        assert first["retry"] == 1
        message = db.session.get(MailMessage, message_id)
        assert message.status == "queued" and message.attempts == 1
        assert message.next_attempt_at == now + timedelta(seconds=60)
        assert "ConnectionRefused" in message.last_error
        # Not yet due: nothing is attempted.
        assert send_due_mail(now=now + timedelta(seconds=30)) == {
            "sent": 0,
            "retry": 0,
            "failed": 0,
            "interrupted": 0,
        }
        second = send_due_mail(now=now + timedelta(seconds=61))
        assert second["retry"] == 1
        db.session.refresh(message)
        assert message.next_attempt_at == now + timedelta(seconds=61 + 120), "backoff doubles"

        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        try:
            third = send_due_mail(now=now + timedelta(seconds=200))
            assert third["sent"] == 1
            assert send_due_mail(now=now + timedelta(hours=2))["sent"] == 0
        finally:
            controller.stop()
        db.session.refresh(message)
        assert message.status == "sent" and message.attempts == 3 and message.last_error is None
    assert len(inbox.messages) == 1


def test_attempts_run_out(app, smtp_port, monkeypatch):
    monkeypatch.setitem(app.config, "CITYAPP_MAIL_MAX_ATTEMPTS", 2)
    with app.app_context():
        message_id = _queue()
        now = utcnow()
        send_due_mail(now=now)
        assert send_due_mail(now=now + timedelta(hours=1))["failed"] == 1
        message = db.session.get(MailMessage, message_id)
        assert message.status == "failed" and message.attempts == 2


def test_permanent_refusal_fails_without_retry(app, smtp_server):
    smtp_server.refuse = True
    with app.app_context():
        message_id = _queue()
        assert send_due_mail()["failed"] == 1
        message = db.session.get(MailMessage, message_id)
        assert message.status == "failed" and message.attempts == 1
        assert "550" in message.last_error
    assert smtp_server.messages == []


def test_interrupted_send_is_failed_not_resent(app, smtp_server):
    now = utcnow()
    with app.app_context():
        message_id = _queue()
        message = db.session.get(MailMessage, message_id)
        # A sender claimed it and died before recording the outcome.
        message.status, message.claimed_at, message.claimed_by = "sending", now, "crashed:1"
        db.session.commit()
        assert send_due_mail(now=now + timedelta(minutes=5))["interrupted"] == 0
        assert send_due_mail(now=now + timedelta(minutes=16))["interrupted"] == 1
        db.session.refresh(message)
        assert message.status == "failed" and "outcome unknown" in message.last_error
    assert smtp_server.messages == []


def test_mail_job_is_registered(app):
    from cityapp.scheduler import JOBS

    assert {"mail.outbox", "mail.retention"} <= {spec.id for spec in JOBS}


def test_html_alternative_is_sent_with_the_plain_text(app, smtp_server):
    with app.app_context():
        enqueue_mail(
            to=["resident@example.org"],
            subject="Ihre Meldung",
            body="Ihre Meldung ist eingegangen.",
            html="<p>Ihre Meldung ist <strong>eingegangen</strong>.</p>",
        )
        db.session.commit()
        assert send_due_mail()["sent"] == 1
    (_recipients, raw) = smtp_server.messages[-1]
    assert "multipart/alternative" in raw
    assert "text/plain" in raw and "text/html" in raw
    assert "<strong>eingegangen</strong>" in raw


def test_retention_deletes_sent_and_failed_mail_only_after_the_retention(app, monkeypatch):
    from cityapp.mail.jobs import mail_retention
    from cityapp.scheduler import get_job
    from cityapp.scheduling import run_guarded

    monkeypatch.setitem(app.config, "CITYAPP_MAIL_RETENTION_DAYS", 30)
    now = utcnow()
    with app.app_context():
        ids = {name: _queue(name) for name in ("sent", "failed", "queued", "sending", "recent")}
        rows = {name: db.session.get(MailMessage, ids[name]) for name in ids}
        old = now - timedelta(days=31)
        for name in ("sent", "failed", "queued", "sending"):
            rows[name].created_at = rows[name].claimed_at = old
        rows["sent"].status, rows["sent"].sent_at = "sent", old
        rows["failed"].status = "failed"
        rows["sending"].status = "sending"
        rows["recent"].status, rows["recent"].sent_at = "sent", now - timedelta(days=29)
        rows["recent"].claimed_at = now - timedelta(days=29)
        db.session.commit()

        assert mail_retention(now=now) == {"mail_purged": 2}
        db.session.commit()
        left = set(db.session.scalars(select(MailMessage.id)))
        assert left == {ids["queued"], ids["sending"], ids["recent"]}

        # The registered job does the same and commits it with its run record.
        recent = db.session.get(MailMessage, ids["recent"])
        recent.sent_at = recent.claimed_at = old
        db.session.commit()
        run = run_guarded(get_job("mail.retention"), now, runner="test")
        assert run.status == "succeeded" and '"mail_purged": 1' in run.result
        db.session.expire_all()
        assert set(db.session.scalars(select(MailMessage.id))) == {ids["queued"], ids["sending"]}


class SlowInbox(Inbox):
    """Accepts each message, but answers DATA only after the client gave up (`slow` times)."""

    def __init__(self, slow: int, delay: float) -> None:
        super().__init__()
        self.slow, self.delay = slow, delay

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8")))
        if self.slow > 0:
            self.slow -= 1
            await asyncio.sleep(self.delay)
        return "250 Message accepted"


def _message_ids(inbox: Inbox) -> list[str]:
    import email

    return [email.message_from_string(raw)["Message-ID"] for _rcpt, raw in inbox.messages]


@pytest.fixture
def slow_smtp(app, smtp_port, monkeypatch):
    monkeypatch.setitem(app.config, "CITYAPP_MAIL_TIMEOUT_S", 1)

    def start(slow: int) -> SlowInbox:
        inbox = SlowInbox(slow, delay=1.5)
        controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        started.append(controller)
        return inbox

    started: list[Controller] = []
    yield start
    for controller in started:
        controller.stop()


def test_a_timeout_after_data_is_retried_once_with_the_same_message_id(app, slow_smtp):
    inbox = slow_smtp(slow=1)
    with app.app_context():
        message_id = _queue()
        now = utcnow()
        assert send_due_mail(now=now)["retry"] == 1
        message = db.session.get(MailMessage, message_id)
        assert message.ambiguous_failures == 1 and "after DATA" in message.last_error
        assert send_due_mail(now=now + timedelta(minutes=5))["sent"] == 1
        db.session.refresh(message)
        assert message.status == "sent" and message.attempts == 2
    first, second = _message_ids(inbox)
    assert first == second == message.message_id, "the receiver can drop the copy"


def test_a_message_is_never_sent_more_than_twice_to_a_slow_server(app, slow_smtp):
    inbox = slow_smtp(slow=10)
    with app.app_context():
        message_id = _queue()
        now = utcnow()
        assert send_due_mail(now=now)["retry"] == 1
        assert send_due_mail(now=now + timedelta(minutes=5))["failed"] == 1
        assert send_due_mail(now=now + timedelta(hours=5))["sent"] == 0
        message = db.session.get(MailMessage, message_id)
        assert message.status == "failed" and message.attempts == 2
    assert len(inbox.messages) == 2 and len(set(_message_ids(inbox))) == 1
