"""Demo districts for Musterstadt: four square Ortsteile with fictional ARS."""

from __future__ import annotations

from cityapp.auth.service import Actor
from cityapp.places.service import upsert_district


def _square(lon: float, lat: float, size: float = 0.02) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [lon, lat],
                [lon + size, lat],
                [lon + size, lat + size],
                [lon, lat + size],
                [lon, lat],
            ]
        ],
    }


# Musterstadt lies (fictionally) around 51.30 N, 9.45 E; ARS are in the fictional 06-633 range.
DEMO_DISTRICTS = [
    ("altstadt", "Altstadt", "066330001001", _square(9.44, 51.30)),
    ("nordviertel", "Nordviertel", "066330001002", _square(9.44, 51.32)),
    ("suedhang", "Südhang", "066330001003", _square(9.44, 51.28)),
    ("oberdorf", "Oberdorf", "066330001004", _square(9.46, 51.30)),
]


def seed_districts(actor: Actor) -> list[int]:
    """Create or refresh the demo districts; their ids in display order."""
    return [
        upsert_district(actor, slug=slug, name=name, ars=ars, polygon=polygon, position=position).id
        for position, (slug, name, ars, polygon) in enumerate(DEMO_DISTRICTS)
    ]
