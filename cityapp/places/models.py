"""Places tables: the districts (Ortsteile) of the municipality."""

from __future__ import annotations

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from cityapp.db import TimestampMixin, db


class District(TimestampMixin, db.Model):
    """An Ortsteil: a named area with an optional polygon and an optional 12-digit ARS."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    ars: Mapped[str | None] = mapped_column(String(12))
    # GeoJSON Polygon or MultiPolygon geometry (WGS 84), if the boundary is known.
    polygon: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    position: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<District {self.id} {self.slug}>"
