"""Demo content for Musterstadt: German news and announcements, one active warning."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cityapp.auth.service import Actor
from cityapp.content.models import Announcement, NewsItem
from cityapp.content.service import announcements, news
from cityapp.db import db, utcnow
from cityapp.places.models import District

DEMO_SOURCE = "demo"

# (external id, category, district slugs, pinned, days ago, title, summary, body, English title)
DEMO_NEWS = [
    (
        "n1",
        "rathaus",
        [],
        True,
        0,
        "Bürgerbüro mit neuen Öffnungszeiten",
        "Ab sofort auch donnerstags bis 18 Uhr geöffnet.",
        "<p>Das Bürgerbüro im Rathaus ist ab sofort <strong>donnerstags bis 18 Uhr</strong> "
        "geöffnet. Termine können online oder telefonisch vereinbart werden.</p>",
        "Citizens' office extends opening hours",
    ),
    (
        "n2",
        "verkehr",
        ["altstadt"],
        False,
        1,
        "Sanierung der Hauptstraße beginnt",
        "Von Montag an wird die Hauptstraße abschnittsweise erneuert.",
        "<h2>Was ändert sich?</h2><p>Die Hauptstraße wird zwischen Marktplatz und Kirchgasse "
        "erneuert. Der Verkehr wird über die Ringstraße umgeleitet.</p>"
        "<ul><li>Dauer: etwa acht Wochen</li><li>Fußwege bleiben offen</li></ul>",
        None,
    ),
    (
        "n3",
        "kultur",
        [],
        False,
        2,
        "Stadtfest am letzten Juniwochenende",
        "Drei Tage Musik, Kunsthandwerk und Kinderprogramm.",
        "<p>Das Stadtfest lädt wieder auf den Marktplatz ein. Das Programm gibt es "
        "<a href='https://musterstadt.example/stadtfest'>auf der Website</a>.</p>",
        "City festival on the last weekend of June",
    ),
    (
        "n4",
        "umwelt",
        ["nordviertel"],
        False,
        4,
        "Neue Blühwiesen im Nordviertel",
        "Die Stadt sät auf 2 000 m² heimische Wildblumen.",
        "<p>Am Nordpark entstehen neue <em>Blühwiesen</em> für Bienen und Schmetterlinge.</p>",
        None,
    ),
    (
        "n5",
        "bildung",
        ["suedhang"],
        False,
        6,
        "Grundschule Südhang erhält Erweiterungsbau",
        "Der Stadtrat hat den Neubau mit vier Klassenräumen beschlossen.",
        "<p>Baubeginn ist im Herbst, die Fertigstellung ist für das nächste Schuljahr geplant.</p>",
        None,
    ),
]


def _district_ids(slugs: list[str]) -> list[int]:
    if not slugs:
        return []
    return list(db.session.scalars(select(District.id).where(District.slug.in_(slugs))))


def seed_content(actor: Actor) -> dict[str, int]:
    """Idempotent: news are keyed by (source, external id), announcements by German title."""
    now = utcnow()
    created_news = 0
    for external_id, category, slugs, pinned, days, title, summary, body, english in DEMO_NEWS:
        exists = db.session.scalar(
            select(NewsItem.id).where(
                NewsItem.source == DEMO_SOURCE, NewsItem.external_id == external_id
            )
        )
        if exists:
            continue
        titles = {"de": title} | ({"en": english} if english else {})
        item = news.create_news(
            actor,
            title=titles,
            summary={"de": summary},
            body={"de": body},
            category=category,
            district_ids=_district_ids(slugs),
            is_pinned=pinned,
            source=DEMO_SOURCE,
            external_id=external_id,
            tags=[category],
        )
        news.publish_news(actor, item, publish_at=now - timedelta(days=days, hours=1))
        created_news += 1

    demo_announcements = [
        {
            "title": {"de": "Unwetterwarnung: Sturmböen", "en": "Severe weather: gale-force gusts"},
            "body": {
                "de": "<p>Der Deutsche Wetterdienst erwartet Sturmböen bis 90 km/h. "
                "Parks und Friedhöfe bleiben geschlossen.</p>"
            },
            "instruction": {"de": "Meiden Sie Parks und Wälder. Sichern Sie lose Gegenstände."},
            "category": "public_safety",
            "level": "warning",
            "channels": ["app", "stele", "push"],
            "valid_from": now - timedelta(hours=1),
            "valid_until": now + timedelta(days=2),
            "sender_name": "Stadt Musterstadt, Ordnungsamt",
            "contact": "Tel. 0561 000-110",
        },
        {
            "title": {"de": "Vollsperrung Brückenstraße"},
            "body": {"de": "<p>Wegen Kanalarbeiten ist die Brückenstraße voll gesperrt.</p>"},
            "category": "road_closure",
            "level": "notice",
            "channels": ["app", "stele"],
            "district_ids": _district_ids(["altstadt"]),
            "valid_from": now,
            "valid_until": now + timedelta(days=14),
        },
        {
            "title": {"de": "Biotonne: Abholung verschoben"},
            "body": {
                "de": "<p>Wegen des Feiertags wird die Biotonne einen Tag später geleert.</p>"
            },
            "category": "waste_collection",
            "level": "info",
            "channels": ["app"],
            "district_ids": _district_ids(["oberdorf", "suedhang"]),
        },
    ]
    created_announcements = 0
    for data in demo_announcements:
        title = data["title"]["de"]
        known = db.session.scalars(select(Announcement.title)).all()
        if any(t.get("de") == title for t in known):
            continue
        item = announcements.create_announcement(actor, **data)
        announcements.publish_announcement(actor, item)
        created_announcements += 1
    return {"news_created": created_news, "announcements_created": created_announcements}
