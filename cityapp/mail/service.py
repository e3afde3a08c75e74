"""The outbox: ``enqueue_mail`` adds a row in the caller's transaction (so mail exists only if
the change that caused it commits); the scheduler's ``mail.outbox`` job (cityapp.mail.jobs)
claims each due row, commits the claim, then ``deliver_claimed_mail`` talks to the SMTP server
and the job commits the outcome. Nothing here commits."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update

from cityapp.db import db, utcnow
from cityapp.mail.models import MailMessage, MailStatus

log = logging.getLogger(__name__)


def enqueue_mail(
    *,
    to: list[str],
    subject: str,
    body: str,
    html: str | None = None,
    topic: str | None = None,
) -> MailMessage:
    """Queue a mail (plain text, optionally with an HTML alternative); the scheduler sends it
    after the caller commits."""
    recipients = sorted({address.strip() for address in to if address and address.strip()})
    if not recipients:
        raise ValueError("a mail needs at least one recipient")
    message = MailMessage(
        to_addrs=recipients,
        subject=subject[:300],
        body_text=body,
        body_html=html,
        topic=topic,
        status=MailStatus.QUEUED,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    log.info("mail %s queued (%s)", message.id, topic or "no topic")
    return message


def _build(message: MailMessage) -> EmailMessage:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_DEFAULT_SENDER"]
    email["To"] = ", ".join(message.to_addrs)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    if not message.message_id:
        message.message_id = make_msgid(idstring=f"outbox-{message.id}", domain="cityapp")
    email["Message-ID"] = message.message_id
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


class PermanentMailError(Exception):
    """The server refused the message for good (5xx); retrying would not help."""


class AmbiguousMailError(Exception):
    """The connection broke (timeout, disconnect) after the message went out with DATA and
    before the server's answer: it may have been delivered."""


class _SMTP(smtplib.SMTP):
    """Remembers whether DATA began, which makes a later failure ambiguous."""

    data_started = False

    def data(self, msg):  # type: ignore[override]
        self.data_started = True
        return super().data(msg)


def _deliver(email: EmailMessage) -> None:
    config = current_app.config
    smtp: _SMTP | None = None
    try:
        with _SMTP(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["CITYAPP_MAIL_TIMEOUT_S"]
        ) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(email)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        if all(code >= 500 for code in codes):
            raise PermanentMailError(f"recipients refused: {codes}") from exc
        raise
    except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
        if exc.smtp_code >= 500:
            raise PermanentMailError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        raise
    except OSError as exc:  # timeouts and disconnects (SMTPServerDisconnected too)
        if smtp is not None and smtp.data_started:
            raise AmbiguousMailError(f"{exc.__class__.__name__} after DATA: {exc}") from exc
        raise


def _backoff(attempts: int) -> timedelta:
    config = current_app.config
    seconds = config["CITYAPP_MAIL_BACKOFF_BASE_S"] * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, config["CITYAPP_MAIL_BACKOFF_MAX_S"]))


def claim_mail(message_id: int, runner: str, now: datetime) -> bool:
    """Take the row for this sender (the caller commits the claim before sending)."""
    claimed = db.session.execute(
        update(MailMessage)
        .where(
            MailMessage.id == message_id,
            MailMessage.status == MailStatus.QUEUED,
            MailMessage.next_attempt_at <= now,
        )
        .values(status=MailStatus.SENDING, claimed_at=now, claimed_by=runner)
        .execution_options(synchronize_session=False)
    ).rowcount
    return claimed == 1


def fail_interrupted_mail(now: datetime) -> int:
    """A claim older than the stuck limit means the sender died mid-send: the outcome is
    unknown, so the message is failed rather than risk sending it twice."""
    cutoff = now - timedelta(seconds=current_app.config["CITYAPP_MAIL_STUCK_AFTER_S"])
    result = db.session.execute(
        update(MailMessage)
        .where(MailMessage.status == MailStatus.SENDING, MailMessage.claimed_at < cutoff)
        .values(status=MailStatus.FAILED, last_error="send interrupted; outcome unknown")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def due_mail_ids(now: datetime, limit: int) -> list[int]:
    """Queued messages whose next attempt is due, oldest first."""
    return list(
        db.session.scalars(
            select(MailMessage.id)
            .where(MailMessage.status == MailStatus.QUEUED, MailMessage.next_attempt_at <= now)
            .order_by(MailMessage.next_attempt_at, MailMessage.id)
            .limit(limit)
        )
    )


def deliver_claimed_mail(message_id: int, now: datetime) -> str:
    """Talk to the SMTP server for one claimed message and record the outcome on the row:
    ``sent``, ``retry`` (queued again with backoff) or ``failed``. The caller commits."""
    message = db.session.get(MailMessage, message_id)
    assert message is not None
    message.attempts += 1
    max_attempts = current_app.config["CITYAPP_MAIL_MAX_ATTEMPTS"]
    after_ambiguous = message.ambiguous_failures > 0
    try:
        _deliver(_build(message))
    except PermanentMailError as exc:
        message.status, message.last_error = MailStatus.FAILED, str(exc)[:500]
        log.warning("mail %s failed permanently: %s", message.id, exc)
        return "failed"
    except (AmbiguousMailError, TimeoutError, smtplib.SMTPException, OSError) as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:500]
        message.last_error = error
        if isinstance(exc, AmbiguousMailError):
            message.ambiguous_failures += 1
        if after_ambiguous or message.attempts >= max_attempts:
            # After an attempt that may have delivered it, one more try and no more: each
            # further one could be a further copy in the inbox.
            message.status = MailStatus.FAILED
            log.warning("mail %s failed after %s attempts: %s", message.id, message.attempts, error)
            return "failed"
        message.status = MailStatus.QUEUED
        message.next_attempt_at = now + _backoff(message.attempts)
        log.info("mail %s deferred (attempt %s): %s", message.id, message.attempts, error)
        return "retry"
    message.status, message.sent_at, message.last_error = MailStatus.SENT, utcnow(), None
    log.info("mail %s sent", message.id)
    return "sent"


def purge_old_mail(now: datetime) -> int:
    """Delete sent and finally-failed messages (their addresses and bodies) whose last attempt
    is older than ``CITYAPP_MAIL_RETENTION_DAYS``. Queued and sending rows are never touched."""
    cutoff = now - timedelta(days=current_app.config["CITYAPP_MAIL_RETENTION_DAYS"])
    last_attempt = func.coalesce(MailMessage.claimed_at, MailMessage.created_at)
    result = db.session.execute(
        delete(MailMessage)
        .where(
            or_(
                and_(MailMessage.status == MailStatus.SENT, MailMessage.sent_at < cutoff),
                and_(MailMessage.status == MailStatus.FAILED, last_attempt < cutoff),
            )
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
