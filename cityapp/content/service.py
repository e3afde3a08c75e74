"""Content business rules. Services never commit."""

from __future__ import annotations

from sqlalchemy import select

from cityapp.auth.service import Actor, record_audit
from cityapp.content.models import District
from cityapp.db import db


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
    created = district is None
    if district is None:
        district = District(slug=slug, name=name)
        db.session.add(district)
    district.name, district.ars, district.polygon, district.position = name, ars, polygon, position
    db.session.flush()
    if created:
        record_audit(
            actor, "district.create", object_type="district", object_id=district.id, summary=name
        )
    return district
