"""Resident mail about their report, through the shared outbox (sent after commit, retried,
never twice). Only to reporters who left an address and consented."""

from __future__ import annotations

from html import escape

from flask import current_app
from sqlalchemy import select

from cityapp.db import db
from cityapp.feedback.models import Report, ReportContact, ReportEvent
from cityapp.feedback.service.state import STATUS_LABELS_DE
from cityapp.feedback.service.tokens import tracking_token_for
from cityapp.mail.service import enqueue_mail


def _recipients(report: Report) -> list[Report]:
    """The report itself and the reports merged into it: their reporters follow it."""
    merged = list(db.session.scalars(select(Report).where(Report.duplicate_of_id == report.id)))
    return [report, *merged]


def _consented(report: Report) -> ReportContact | None:
    contact = report.contact
    if contact is None or not contact.email or not contact.is_notification_consented:
        return None
    return contact


def notify_reporter(report: Report, event: ReportEvent) -> int:
    """Queue one mail per consenting reporter; returns how many were queued."""
    queued = 0
    for own in _recipients(report):
        contact = _consented(own)
        if contact is None:
            continue
        link = current_app.config["CITYAPP_REPORT_TRACKING_URL"].format(
            token=tracking_token_for(own)
        )
        subject, text, html = _compose(report, event, link, contact.name)
        enqueue_mail(to=[contact.email], subject=subject, body=text, html=html, topic="report")
        queued += 1
    return queued


def _compose(
    report: Report, event: ReportEvent, link: str, name: str | None
) -> tuple[str, str, str]:
    city = current_app.config["CITYAPP_NAME"]
    status = STATUS_LABELS_DE.get(report.status, report.status)
    greeting = f"Guten Tag {name}," if name else "Guten Tag,"
    if event.to_status and event.to_status != event.from_status:
        headline = f"Ihre Meldung Nr. {report.id} ist jetzt: {status}."
    else:
        headline = f"Es gibt eine neue Nachricht zu Ihrer Meldung Nr. {report.id}."
    subject = f"{city}: Ihre Meldung Nr. {report.id}: {status}"
    lines = [greeting, "", headline]
    if event.public_note:
        lines += ["", "Nachricht der Verwaltung:", event.public_note]
    lines += [
        "",
        "Den Stand und den Verlauf Ihrer Meldung sehen Sie hier:",
        link,
        "",
        f"Mit freundlichen Grüßen\nIhre Stadtverwaltung {city}",
        "",
        "Sie erhalten diese E-Mail, weil Sie bei Ihrer Meldung eingewilligt haben, "
        "über Änderungen informiert zu werden.",
    ]
    text = "\n".join(lines) + "\n"
    note = (
        f"<p><strong>Nachricht der Verwaltung:</strong><br>{escape(event.public_note)}</p>"
        if event.public_note
        else ""
    )
    html = (
        '<!doctype html><html lang="de"><body>'
        f"<p>{escape(greeting)}</p><p>{escape(headline)}</p>{note}"
        f'<p><a href="{escape(link)}">Stand und Verlauf Ihrer Meldung ansehen</a></p>'
        f"<p>Mit freundlichen Grüßen<br>Ihre Stadtverwaltung {escape(city)}</p>"
        "</body></html>"
    )
    return subject, text, html
