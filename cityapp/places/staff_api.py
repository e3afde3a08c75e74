"""Staff districts API: editors read the districts to target content, admins change them."""

from __future__ import annotations

from flask import url_for
from flask_smorest import Blueprint

from cityapp.auth.models import Role
from cityapp.auth.permissions import current_staff, staff_required
from cityapp.db import db
from cityapp.http.conditional import check_if_match, make_etag
from cityapp.places import service as district_service
from cityapp.places.models import District
from cityapp.places.schemas import (
    DistrictInputSchema,
    DistrictListSchema,
    DistrictSchema,
    DistrictUpdateSchema,
)

blp = Blueprint(
    "places_staff", __name__, url_prefix="/api/v1/staff", description="Districts for staff"
)
EDITORS = (Role.EDITOR, Role.ADMIN)


def etag_of(district: District) -> str:
    return make_etag("staff", "district", district.id, district.updated_at)


@blp.get("/districts")
@staff_required(*EDITORS)
@blp.response(200, DistrictListSchema)
def list_districts():
    """All districts (editors read them to target content)."""
    return {"items": district_service.list_districts()}


@blp.post("/districts")
@staff_required(Role.ADMIN)
@blp.arguments(DistrictInputSchema)
@blp.response(201, DistrictSchema)
def create_district(data):
    """Create a district with optional ARS and polygon (admin)."""
    district = district_service.create_district(current_staff(), **data)
    db.session.commit()
    location = url_for("places_staff.get_district", district_id=district.id)
    return district, 201, {"Location": location, "ETag": etag_of(district)}


@blp.get("/districts/<int:district_id>")
@staff_required(*EDITORS)
@blp.response(200, DistrictSchema)
def get_district(district_id):
    """One district."""
    district = district_service.get_district(district_id)
    return district, 200, {"ETag": etag_of(district)}


@blp.patch("/districts/<int:district_id>")
@staff_required(Role.ADMIN)
@blp.arguments(DistrictUpdateSchema)
@blp.response(200, DistrictSchema)
@blp.alt_response(412, description="If-Match did not match the current ETag.")
def update_district(data, district_id):
    """Change a district (admin; If-Match)."""
    district = district_service.get_district(district_id)
    check_if_match(etag_of(district))
    district_service.update_district(current_staff(), district, **data)
    db.session.commit()
    return district, 200, {"ETag": etag_of(district)}


@blp.delete("/districts/<int:district_id>")
@staff_required(Role.ADMIN)
@blp.response(204)
def delete_district(district_id):
    """Delete a district; content aimed at it loses that target (admin)."""
    district_service.delete_district(current_staff(), district_service.get_district(district_id))
    db.session.commit()
