"""Districts (Ortsteile): validated polygons inside the municipality and point lookup."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import shapely
from flask import current_app
from shapely.geometry import Point, box, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select

from cityapp.auth.service import Actor, record_audit
from cityapp.content.models import Announcement, District
from cityapp.db import db, utcnow
from cityapp.errors import Conflict, NotFound, ValidationError
from cityapp.signals import content_changed, send_before_commit

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ARS_RE = re.compile(r"^\d{12}$")


# --- geometry --------------------------------------------------------------------------


def municipality_bbox() -> BaseGeometry:
    """The configured bounding area (CITYAPP_BBOX = "min_lon,min_lat,max_lon,max_lat")."""
    raw = current_app.config["CITYAPP_BBOX"]
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in raw.split(","))
    return box(min_lon, min_lat, max_lon, max_lat)


def parse_area(field: str, geojson: Any) -> BaseGeometry:
    """A GeoJSON Polygon/MultiPolygon that is valid and inside the municipality, or 422."""
    if not isinstance(geojson, dict) or geojson.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError(
            errors={field: ["A GeoJSON geometry of type Polygon or MultiPolygon."]}
        )
    try:
        geometry = shape(geojson)
    except (
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        shapely.errors.GEOSException,
    ):
        raise ValidationError(errors={field: ["Malformed GeoJSON coordinates."]}) from None
    if geometry.is_empty or not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry) if not geometry.is_empty else "empty"
        raise ValidationError(errors={field: [f"Invalid polygon: {reason}."]})
    if not municipality_bbox().covers(geometry):
        raise ValidationError(
            errors={field: ["The polygon lies (partly) outside the municipality."]}
        )
    return geometry


def check_point(lat: float, lon: float) -> Point:
    point = Point(lon, lat)
    if not municipality_bbox().covers(point):
        raise ValidationError(
            "The point lies outside the municipality.",
            errors={"lat": ["Outside the municipality."], "lon": ["Outside the municipality."]},
        )
    return point


@dataclass(frozen=True)
class _Index:
    key: tuple
    entries: list[tuple[int, Any]]  # (district id, prepared geometry), in position order


_cache_lock = threading.Lock()
_cache: dict[str, _Index] = {}


def _version_key() -> tuple:
    row = db.session.execute(select(func.count(District.id), func.max(District.updated_at))).one()
    return (str(db.engine.url), row[0], row[1])


def _district_index() -> _Index:
    """Prepared polygons of all districts, rebuilt only when a district changed."""
    key = _version_key()
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


# --- CRUD ------------------------------------------------------------------------------


def get_district(district_id: int) -> District:
    district = db.session.get(District, district_id)
    if district is None:
        raise NotFound(f"No district {district_id}.")
    return district


def find_district(ref: str) -> District | None:
    """A district by id ("3") or slug ("altstadt")."""
    if ref.isdigit():
        return db.session.get(District, int(ref))
    return db.session.scalar(select(District).where(District.slug == ref))


def _validate(data: dict[str, Any]) -> dict[str, Any]:
    if "slug" in data and not _SLUG_RE.match(data["slug"] or ""):
        raise ValidationError(errors={"slug": ["Lowercase letters, digits and hyphens."]})
    if data.get("ars") is not None and not _ARS_RE.match(data["ars"]):
        raise ValidationError(errors={"ars": ["The ARS has exactly 12 digits."]})
    if data.get("polygon") is not None:
        parse_area("polygon", data["polygon"])
    return data


def _slug_taken(slug: str, district_id: int | None) -> bool:
    query = select(District.id).where(District.slug == slug)
    if district_id is not None:
        query = query.where(District.id != district_id)
    return db.session.scalar(query) is not None


def create_district(actor: Actor, **data: Any) -> District:
    _validate(data)
    if _slug_taken(data["slug"], None):
        raise Conflict("A district with this slug exists.", errors={"slug": ["Taken."]})
    district = District(**data)
    db.session.add(district)
    db.session.flush()
    record_audit(
        actor,
        "district.create",
        object_type="district",
        object_id=district.id,
        summary=district.name,
        changes={k: v for k, v in data.items() if k != "polygon"},
    )
    _after_change(district, "create")
    return district


def update_district(actor: Actor, district: District, **data: Any) -> District:
    _validate(data)
    if "slug" in data and _slug_taken(data["slug"], district.id):
        raise Conflict("A district with this slug exists.", errors={"slug": ["Taken."]})
    changed = {k: v for k, v in data.items() if getattr(district, k) != v}
    for key, value in changed.items():
        setattr(district, key, value)
    if not changed:
        return district
    db.session.flush()
    record_audit(
        actor,
        "district.update",
        object_type="district",
        object_id=district.id,
        summary="changed " + ", ".join(sorted(changed)),
        changes={k: ("(geometry)" if k == "polygon" else v) for k, v in changed.items()},
    )
    _after_change(district, "update", geometry_changed="polygon" in changed)
    return district


def delete_district(actor: Actor, district: District) -> None:
    record_audit(
        actor,
        "district.delete",
        object_type="district",
        object_id=district.id,
        summary=district.name,
    )
    db.session.delete(district)
    db.session.flush()
    invalidate_district_cache()
    _retarget_area_announcements()
    send_before_commit(
        db.session(),
        content_changed,
        "district",
        item_id=district.id,
        action="delete",
        district_ids=[district.id],
        channels=[],
    )


def upsert_district(
    actor: Actor,
    *,
    slug: str,
    name: str,
    ars: str | None = None,
    polygon: dict | None = None,
    position: int = 0,
) -> District:
    """Create a district or update the one with this slug (used by the demo seed)."""
    district = db.session.scalar(select(District).where(District.slug == slug))
    data = {"name": name, "ars": ars, "polygon": polygon, "position": position}
    if district is None:
        return create_district(actor, slug=slug, **data)
    return update_district(actor, district, **data)


def _after_change(district: District, action: str, geometry_changed: bool = True) -> None:
    invalidate_district_cache()
    if geometry_changed:
        _retarget_area_announcements()
    send_before_commit(
        db.session(),
        content_changed,
        "district",
        item_id=district.id,
        action=action,
        district_ids=[district.id],
        channels=[],
    )


def _retarget_area_announcements() -> None:
    """Announcements aimed at an area follow the district polygons they touch."""
    for announcement in db.session.scalars(
        select(Announcement).where(Announcement.area.is_not(None))
    ):
        ids = districts_touching(shape(announcement.area))
        if sorted(d.id for d in announcement.districts) != sorted(ids):
            announcement.districts = list(
                db.session.scalars(select(District).where(District.id.in_(ids)))
            )
            announcement.updated_at = utcnow()
