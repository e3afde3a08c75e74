"""The outbox table: one row per message, sent at most once."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityapp.db import db, utcnow


class MailStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its next attempt
    SENDING = "sending"  # claimed by one sender; never picked up again
    SENT = "sent"
    FAILED = "failed"  # permanent error, attempts used up, or an interrupted send


class MailMessage(db.Model):
    __tablename__ = "mail_messages"
    __table_args__ = (Index("ix_mail_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_addrs: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    # Optional HTML alternative; the plain-text part is always sent.
    body_html: Mapped[str | None] = mapped_column(Text)
    # What caused the mail, e.g. "device_incident:12" (for operators; not personal data).
    topic: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default=MailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Set at the first attempt and reused by every later one, so a receiver that got the
    # message already can drop the copy.
    message_id: Mapped[str | None] = mapped_column(String(250))
    # Attempts whose outcome is unknown (the connection broke after DATA): the message may
    # have arrived. After one, the message gets a single further attempt, then fails.
    ambiguous_failures: Mapped[int] = mapped_column(default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<MailMessage {self.id} {self.status} attempts={self.attempts}>"
