"""Public districts API (no auth): every district with its polygon, and point lookup."""

from __future__ import annotations

from flask_smorest import Blueprint

from cityapp.errors import NotFound
from cityapp.http.conditional import conditional_json, make_etag
from cityapp.places import service as district_service
from cityapp.places.schemas import DistrictListSchema, DistrictSchema, PointQuerySchema

blp = Blueprint("places", __name__, url_prefix="/api/v1", description="Districts")


@blp.get("/districts")
@blp.response(200, DistrictListSchema)
def list_districts():
    """All districts with their polygons, in display order."""
    etag = make_etag("districts", district_service.districts_version())

    def build():
        return DistrictListSchema().dump({"items": district_service.list_districts()})

    return conditional_json(etag, build)


@blp.get("/districts/lookup")
@blp.arguments(PointQuerySchema, location="query")
@blp.response(200, DistrictSchema)
@blp.alt_response(404, description="Inside the municipality but in no district.")
@blp.alt_response(422, description="Outside the municipality.")
def lookup_district(args):
    """The district that contains a point (lat, lon)."""
    district = district_service.find_district_at(args["lat"], args["lon"])
    if district is None:
        raise NotFound("The point lies in no district.")
    return district
