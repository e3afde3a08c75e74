"""Turn reports and categories into what each audience may see (dicts for the schemas)."""

from __future__ import annotations

from typing import Any

from flask import url_for

from cityapp.feedback.models import PUBLIC_EVENT_KINDS, Report, ReportCategory, ReportEvent
from cityapp.http.languages import pick_translation

# What strangers see in a public report's history; the reporter additionally sees comments.
OPEN_HISTORY_KINDS = frozenset({"submitted", "status", "note", "merged"})


def media_url(sha: str, variant: str = "display") -> str:
    return url_for("media.serve", sha=sha, variant=variant, _external=True)


def category_public(category: ReportCategory, language: str) -> dict[str, Any]:
    return {
        "code": category.code,
        "name": pick_translation(category.name, language),
        "description": pick_translation(category.description, language),
        "group": category.group,
        "keywords": category.keywords or [],
        "is_location_required": category.is_location_required,
        "is_photo_required": category.is_photo_required,
        "attributes": category.attributes or [],
    }


def public_photos(report: Report) -> list[dict[str, str]]:
    return [
        {"url": media_url(p.asset.sha256), "thumbnail_url": media_url(p.asset.sha256, "thumbnail")}
        for p in report.photos
        if p.is_shown
    ]


def history(report: Report, kinds: frozenset[str]) -> list[dict[str, Any]]:
    return [_event(e) for e in report.events if e.kind in kinds]


def _event(event: ReportEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.public_note,
        "created_at": event.created_at,
    }


def report_public(report: Report, language: str, *, with_history: bool = False) -> dict:
    data = {
        "id": report.id,
        "category": report.category.code,
        "category_name": pick_translation(report.category.name, language),
        "description": report.public_description or "",
        "status": report.status,
        "lat": report.lat,
        "lon": report.lon,
        "address": report.address,
        "district_id": report.district_id,
        "attributes": report.attribute_values or {},
        "supporters_count": report.supporters_count,
        "photos": public_photos(report),
        "expected_at": report.expected_at,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
    }
    if with_history:
        data["history"] = history(report, OPEN_HISTORY_KINDS)
    return data


def report_track(report: Report, language: str, merged_into: Report | None, can_reopen: bool):
    shown = merged_into or report
    return {
        "id": report.id,
        "category": report.category.code,
        "category_name": pick_translation(report.category.name, language),
        "description": report.description,
        "status": report.status,
        "moderation_state": report.moderation_state,
        "is_public": report.is_public,
        "lat": report.lat,
        "lon": report.lon,
        "address": report.address,
        "district_id": report.district_id,
        "photos_count": sum(1 for p in report.photos if not p.is_removed),
        "supporters_count": shown.supporters_count,
        "expected_at": shown.expected_at,
        "can_reopen": can_reopen,
        "merged_into": merged_into.id if merged_into else None,
        "history": history(report, PUBLIC_EVENT_KINDS | {"comment_pending"})
        + (history(merged_into, OPEN_HISTORY_KINDS) if merged_into else []),
        "created_at": report.created_at,
        "updated_at": report.updated_at,
    }


def my_report(report: Report) -> dict[str, Any]:
    return {
        "id": report.id,
        "category": report.category.code,
        "description": report.description,
        "status": report.status,
        "moderation_state": report.moderation_state,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
    }
