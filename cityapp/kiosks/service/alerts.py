"""The alerts lane: warning and emergency announcements (and, later, imported warnings
listed in ``manifest.ALERT_SOURCES``) become alerts with a level and a display mode.

Levels map per ``CITYAPP_KIOSK_ALERT_LEVELS`` (emergency → critical/takeover, warning →
high/banner); a device's ``settings.alert_modes`` overrides the mode. Alerts are ordered
highest level first, then newest.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from cityapp.content.service.common import html_to_text
from cityapp.kiosks.service.sources import (
    ALERT_LEVELS,
    SourceContext,
    announcement_end,
    announcements_for,
)

ALERT_RANK = {"critical": 0, "high": 1, "medium": 2, "info": 3}


def _plain(values: dict | None) -> dict:
    """Alert texts are shown large and plain: no markup, no space before punctuation."""
    return {
        lang: re.sub(r"\s+([.,;:!?])", r"\1", html_to_text(text))
        for lang, text in (values or {}).items()
    }


def announcement_alerts(ctx: SourceContext) -> list[dict[str, Any]]:
    """Warning and emergency announcements for the stele channel become alerts."""
    mapping = current_app.config["CITYAPP_KIOSK_ALERT_LEVELS"]
    overrides = (ctx.device.settings or {}).get("alert_modes") or {}
    alerts = []
    for a in announcements_for(ctx, ALERT_LEVELS):
        level, mode = mapping[a.level]
        mode = overrides.get(a.level, mode)
        effective = max(v for v in (a.publish_at, a.valid_from) if v is not None)
        if effective > ctx.horizon:
            continue
        alerts.append(
            {
                "id": f"announcement:{a.id}",
                "level": level,
                "mode": mode,
                "headline": a.title,
                "description": _plain(a.body),
                "instruction": a.instruction or {},
                "sender": a.sender_name or current_app.config["CITYAPP_NAME"],
                "effective_at": effective,
                "expires_at": announcement_end(a),
                "updated_at": a.updated_at,
                "_sort": (ALERT_RANK[level], -effective.timestamp(), -a.id),
            }
        )
    return alerts
