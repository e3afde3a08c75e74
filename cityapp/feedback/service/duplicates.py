"""Possible duplicates: open public reports of the same category nearby and recent."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from cityapp.db import db
from cityapp.feedback.models import OPEN_STATUSES, ModerationState, Report

EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEG_LAT = 111_320.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def find_possible_duplicates(
    category_id: int,
    lat: float | None,
    lon: float | None,
    now: datetime,
    *,
    exclude_id: int | None = None,
) -> list[tuple[Report, float]]:
    """(report, distance) pairs, nearest first. A bounding box narrows the candidates in SQL
    (indexed on lat, lon); the exact distance is computed for the few that remain."""
    if lat is None or lon is None:
        return []
    radius = current_app.config["CITYAPP_REPORT_DUPLICATE_RADIUS_M"]
    days = current_app.config["CITYAPP_REPORT_DUPLICATE_DAYS"]
    # A little margin: the box must contain the whole circle.
    dlat = radius / _M_PER_DEG_LAT * 1.01
    dlon = radius / (_M_PER_DEG_LAT * max(math.cos(math.radians(lat)), 0.01)) * 1.01
    query = select(Report).where(
        Report.category_id == category_id,
        Report.moderation_state == ModerationState.PUBLISHED,
        Report.status.in_([str(s) for s in OPEN_STATUSES]),
        Report.created_at >= now - timedelta(days=days),
        Report.lat.between(lat - dlat, lat + dlat),
        Report.lon.between(lon - dlon, lon + dlon),
    )
    if exclude_id is not None:
        query = query.where(Report.id != exclude_id)
    found = []
    for report in db.session.scalars(query):
        distance = haversine_m(lat, lon, report.lat, report.lon)
        if distance <= radius and not report.category.is_private:
            found.append((report, distance))
    return sorted(found, key=lambda pair: pair[1])
