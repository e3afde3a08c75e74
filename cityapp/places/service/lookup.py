"""Point → district lookup over prepared polygons, cached until a district changes."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select

from cityapp.db import db
from cityapp.places.models import District
from cityapp.places.service.area import check_point


@dataclass(frozen=True)
class _Index:
    key: tuple
    entries: list[tuple[int, Any]]  # (district id, prepared geometry), in position order


_cache_lock = threading.Lock()
_cache: dict[str, _Index] = {}


def districts_version() -> tuple:
    """(count, latest change) of the districts: changes whenever any district does."""
    row = db.session.execute(select(func.count(District.id), func.max(District.updated_at))).one()
    return tuple(row)


def _district_index() -> _Index:
    """Prepared polygons of all districts, rebuilt only when a district changed."""
    key = (str(db.engine.url), *districts_version())
    cached = _cache.get(key[0])
    if cached is not None and cached.key == key:
        return cached
    entries = []
    for district in db.session.scalars(
        select(District).where(District.polygon.is_not(None)).order_by(District.position)
    ):
        geometry = shape(district.polygon)
        shapely.prepare(geometry)
        entries.append((district.id, geometry))
    index = _Index(key=key, entries=entries)
    with _cache_lock:
        _cache[key[0]] = index
    return index


def invalidate_district_cache() -> None:
    with _cache_lock:
        _cache.clear()


def find_district_at(lat: float, lon: float) -> District | None:
    """The district containing the point (lat, lon); 422 when outside the municipality."""
    point = check_point(lat, lon)
    for district_id, geometry in _district_index().entries:
        if geometry.covers(point):
            return db.session.get(District, district_id)
    return None


def districts_touching(geometry: BaseGeometry) -> list[int]:
    """Ids of the districts whose polygon intersects ``geometry``."""
    return [did for did, polygon in _district_index().entries if polygon.intersects(geometry)]
