"""Places business rules: the municipality's area, district lookup and district changes.

Other packages import these names from here. Services never commit."""

from cityapp.places.service.area import check_point, municipality_bbox, parse_area
from cityapp.places.service.districts import (
    create_district,
    delete_district,
    find_district,
    get_district,
    list_districts,
    update_district,
    upsert_district,
)
from cityapp.places.service.lookup import (
    districts_touching,
    districts_version,
    find_district_at,
    invalidate_district_cache,
)

__all__ = [
    "check_point",
    "create_district",
    "delete_district",
    "districts_touching",
    "districts_version",
    "find_district",
    "find_district_at",
    "get_district",
    "invalidate_district_cache",
    "list_districts",
    "municipality_bbox",
    "parse_area",
    "update_district",
    "upsert_district",
]
