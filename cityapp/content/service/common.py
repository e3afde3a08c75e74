"""Input rules shared by news and announcements: translations, HTML sanitising, search text,
district targets, categories and the audit diff (the lifecycle lives in lifecycle.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import nh3
from flask import current_app
from sqlalchemy import select

from cityapp.content.models import AnnouncementCategory
from cityapp.db import db
from cityapp.errors import ValidationError
from cityapp.places.models import District

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


# --- the fields both kinds share ------------------------------------------------------


def clean_shared_fields(kind: str, data: dict[str, Any], editable: set[str]) -> dict[str, Any]:
    """Refuse unknown fields; clean title, body and category, which both kinds validate alike.
    Returns the cleaned values; the caller adds its own fields."""
    unknown = set(data) - editable
    if unknown:
        raise ValidationError(errors={k: ["Unknown field."] for k in unknown})
    values: dict[str, Any] = {}
    if "title" in data:
        values["title"] = clean_translations("title", data["title"], max_length=300)
    if "body" in data:
        values["body"] = clean_html_translations("body", data["body"])
    if "category" in data:
        values["category"] = check_category(kind, data["category"])
    return values


# --- categories ----------------------------------------------------------------------


def known_categories(kind: str) -> list[str]:
    """News categories are configured per municipality; announcement categories are fixed."""
    if kind == "news":
        return list(current_app.config["CITYAPP_NEWS_CATEGORIES"])
    return [c.value for c in AnnouncementCategory]


def check_category(kind: str, category: str) -> str:
    """The one check of a category, for the editors' input and the public filters alike."""
    if category not in known_categories(kind):
        raise ValidationError(errors={"category": [f"Unknown category {category!r}."]})
    return category


# --- audit -----------------------------------------------------------------------------


def changes_of(item: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``data`` whose value differs from the item (for the audit log)."""
    changed = {}
    for key, value in data.items():
        if getattr(item, key, None) != value:
            changed[key] = value.isoformat() if isinstance(value, datetime) else value
    return changed
