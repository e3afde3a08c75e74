"""The municipality's area (CITYAPP_BBOX) and the GeoJSON polygons that must lie inside it."""

from __future__ import annotations

from typing import Any

import shapely
from flask import current_app
from shapely.geometry import Point, box, shape
from shapely.geometry.base import BaseGeometry

from cityapp.errors import ValidationError


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
    """The point (lat, lon) as a geometry; 422 when it lies outside the municipality."""
    point = Point(lon, lat)
    if not municipality_bbox().covers(point):
        raise ValidationError(
            "The point lies outside the municipality.",
            errors={"lat": ["Outside the municipality."], "lon": ["Outside the municipality."]},
        )
    return point
