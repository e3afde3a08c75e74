"""Districts (Ortsteile): validated create, update, delete and the lookups by id or slug."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from cityapp.auth.service import Actor, record_audit
from cityapp.db import db, get_or_404
from cityapp.errors import Conflict, ValidationError
from cityapp.fields import parse_id
from cityapp.places.models import District
from cityapp.places.service.area import parse_area
from cityapp.places.service.lookup import invalidate_district_cache
from cityapp.signals import content_changed, district_areas_changed, send_before_commit

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ARS_RE = re.compile(r"^\d{12}$")


def list_districts() -> list[District]:
    """Every district in display order."""
    return list(db.session.scalars(select(District).order_by(District.position, District.id)))


def get_district(district_id: int) -> District:
    return get_or_404(District, district_id, "district")


def find_district(ref: str) -> District | None:
    """A district by id ("3") or slug ("altstadt")."""
    if ref.isdigit():
        district_id = parse_id(ref)
        return db.session.get(District, district_id) if district_id else None
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
    _after_change(district.id, "create")
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
    _after_change(district.id, "update", areas_changed="polygon" in changed)
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
    _after_change(district.id, "delete")


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


def _after_change(district_id: int, action: str, areas_changed: bool = True) -> None:
    invalidate_district_cache()
    if areas_changed:
        # In this transaction: content aimed at an area follows the new polygons.
        district_areas_changed.send("district", district_id=district_id, action=action)
    send_before_commit(
        db.session(),
        content_changed,
        "district",
        item_id=district_id,
        action=action,
        district_ids=[district_id],
        channels=[],
    )
