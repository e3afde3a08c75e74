"""Announcements aimed at an area follow the district polygons they touch."""

from __future__ import annotations

from typing import Any

from shapely.geometry import shape
from sqlalchemy import select

from cityapp.content.models import Announcement
from cityapp.db import db, utcnow
from cityapp.places.models import District
from cityapp.places.service import districts_touching


def retarget_area_announcements(sender: Any = None, **kwargs: Any) -> None:
    """Receiver of ``district_areas_changed``: recompute the districts of every announcement
    with an explicit area, in the transaction that changed the polygons."""
    for announcement in db.session.scalars(
        select(Announcement).where(Announcement.area.is_not(None))
    ):
        ids = districts_touching(shape(announcement.area))
        if sorted(d.id for d in announcement.districts) != sorted(ids):
            announcement.districts = list(
                db.session.scalars(select(District).where(District.id.in_(ids)))
            )
            announcement.updated_at = utcnow()
