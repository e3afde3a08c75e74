"""Content business rules, one module per subject. Services never commit."""

from cityapp.content.service.districts import upsert_district

__all__ = ["upsert_district"]
