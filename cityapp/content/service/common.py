"""Rules shared by news and announcements: translations, HTML sanitising, status transitions,
tombstones, search text and change signals."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import nh3
from flask import current_app
from sqlalchemy import select

from cityapp.content.models import ContentStatus, ContentTombstone
from cityapp.db import db
from cityapp.errors import Conflict, ValidationError
from cityapp.places.models import District
from cityapp.signals import content_changed, send_before_commit

# --- translations ----------------------------------------------------------------------


def clean_translations(
    field: str, values: Any, *, required: bool = True, max_length: int = 100_000
) -> dict[str, str] | None:
    """Check a {"de": ..., "en": ...} object: known languages, German present, no blanks."""
    if values is None:
        if required:
            raise ValidationError(errors={field: ["Required, with at least the German text."]})
        return None
    if not isinstance(values, dict):
        raise ValidationError(errors={field: ['An object keyed by language, e.g. {"de": "…"}.']})
    languages = current_app.config["CITYAPP_LANGUAGES"]
    cleaned: dict[str, str] = {}
    for language, text in values.items():
        if language not in languages:
            raise ValidationError(
                errors={field: [f"Unknown language {language!r}; use {', '.join(languages)}."]}
            )
        if text is None:
            continue
        if not isinstance(text, str):
            raise ValidationError(errors={f"{field}.{language}": ["Must be a string."]})
        text = text.strip()
        if len(text) > max_length:
            raise ValidationError(
                errors={f"{field}.{language}": [f"At most {max_length} characters."]}
            )
        if text:
            cleaned[language] = text
    default = current_app.config["CITYAPP_DEFAULT_LANGUAGE"]
    if default not in cleaned:
        if not required and not cleaned:
            return None
        raise ValidationError(errors={f"{field}.{default}": ["The German text is required."]})
    return cleaned


# --- HTML ------------------------------------------------------------------------------

ALLOWED_TAGS = {
    "h2",
    "h3",
    "h4",
    "p",
    "br",
    "ul",
    "ol",
    "li",
    "a",
    "strong",
    "em",
    "b",
    "i",
    "blockquote",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"https", "http", "mailto", "tel"}

# Constructs that mean someone tried to inject code. They would be stripped anyway; refusing
# them tells the editor instead of silently publishing something different from what they wrote.
_DANGEROUS = re.compile(
    r"<\s*(script|style|iframe|object|embed|form|svg|math)\b"
    r"|\son[a-z]+\s*="
    r"|(java|vb)script\s*:"
    r"|<\s*img\b",
    re.IGNORECASE,
)


def sanitize_html(html: str) -> str:
    """Reduce HTML to headings, paragraphs, lists, links and emphasis (nh3 / ammonia)."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def clean_html_translations(field: str, values: Any, *, required: bool = True) -> dict | None:
    """Translations of an HTML field: refused when they carry code, sanitised otherwise."""
    cleaned = clean_translations(field, values, required=required)
    if cleaned is None:
        return None
    for language, html in cleaned.items():
        if _DANGEROUS.search(html):
            raise ValidationError(
                "The text contains scripts, styles, event handlers or embedded images.",
                errors={
                    f"{field}.{language}": [
                        "Scripts, styles, event handlers and embedded images are not allowed;"
                        " add pictures as images."
                    ]
                },
            )
        cleaned[language] = sanitize_html(html)
        if not cleaned[language]:
            raise ValidationError(errors={f"{field}.{language}": ["Empty after sanitising."]})
    return cleaned


def html_to_text(html: str) -> str:
    return re.sub(r"\s+", " ", nh3.clean(re.sub(r"<", " <", html), tags=set())).strip()


def build_search_text(*fields: dict | None, extra: Iterable[str] = ()) -> str:
    """All languages of all fields as plain text: what the full-text index sees."""
    parts: list[str] = []
    for values in fields:
        for text in (values or {}).values():
            parts.append(html_to_text(text))
    parts.extend(extra)
    return "\n".join(p for p in parts if p)


# --- districts -------------------------------------------------------------------------


def load_districts(field: str, ids: Iterable[int] | None) -> list[District]:
    ids = list(dict.fromkeys(ids or []))
    if not ids:
        return []
    found = {d.id: d for d in db.session.scalars(select(District).where(District.id.in_(ids)))}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError(errors={field: [f"Unknown district ids: {missing}."]})
    return [found[i] for i in ids]


# --- status transitions ------------------------------------------------------------------


def check_window(start_field: str, start: datetime | None, end_field: str, end: datetime | None):
    if start is not None and end is not None and end <= start:
        raise ValidationError(errors={end_field: [f"Must be after {start_field}."]})


def require_status(item: Any, allowed: Iterable[str], action: str) -> None:
    if item.status not in set(allowed):
        raise Conflict(
            f"Cannot {action} an item in status {item.status!r}.",
            errors={"status": [f"{action} is not possible from {item.status}."]},
        )


def go_live(item: Any, now: datetime, publish_at: datetime | None) -> None:
    """Publish now or schedule for later, depending on ``publish_at``."""
    item.publish_at = publish_at or item.publish_at or now
    if item.publish_at > now:
        item.status = ContentStatus.SCHEDULED
    else:
        item.status = ContentStatus.PUBLISHED
        item.first_published_at = item.first_published_at or now


# --- tombstones and signals --------------------------------------------------------------


def was_public(item: Any, now: datetime) -> bool:
    """Whether the public may have seen the item (a scheduled item goes out at publish_at,
    even before the job flips its status)."""
    if item.first_published_at is not None:
        return True
    return (
        item.status in (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED)
        and item.publish_at is not None
        and item.publish_at <= now
    )


def write_tombstone(kind: str, item: Any, reason: str, now: datetime) -> None:
    """Record that an item the public may have seen left the public view."""
    if was_public(item, now):
        db.session.add(ContentTombstone(kind=kind, item_id=item.id, reason=reason, created_at=now))


def emit_changed(
    kind: str,
    item: Any,
    action: str,
    channels: list[str],
    *,
    previous_district_ids: list[int] | None = None,
    previous_channels: list[str] | None = None,
) -> None:
    """Signal a public change inside this transaction (just before it commits), so reactions
    that only write rows (stele manifests marked stale) commit atomically with the change.
    Updates pass the targeting before the change too: those audiences must learn of it."""
    send_before_commit(
        db.session(),
        content_changed,
        kind,
        item_id=item.id,
        action=action,
        district_ids=[d.id for d in item.districts],
        channels=channels,
        previous_district_ids=previous_district_ids,
        previous_channels=previous_channels,
    )


def changes_of(item: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``data`` whose value differs from the item (for the audit log)."""
    changed = {}
    for key, value in data.items():
        if getattr(item, key, None) != value:
            changed[key] = value.isoformat() if isinstance(value, datetime) else value
    return changed
