"""Open311 GeoReport v2 at /open311/v2 (XML and JSON by suffix), per docs OPEN311.md."""
