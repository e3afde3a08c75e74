"""Demo feedback for Musterstadt: categories of a German town and reports in every state.
Idempotent: categories by code, reports by their (German) text."""

from __future__ import annotations

from sqlalchemy import select

from cityapp.auth.service import Actor
from cityapp.db import db
from cityapp.feedback.models import Report
from cityapp.feedback.service import categories, moderation, participation, reports, workflow

_YES_NO = [{"key": "ja", "name": "Ja"}, {"key": "nein", "name": "Nein"}]

DEMO_CATEGORIES = [
    {
        "code": "strassenschaeden",
        "name": {"de": "Straßenschäden", "en": "Road damage"},
        "description": {"de": "Schlaglöcher, Risse, lose Pflastersteine, abgesackte Gullys"},
        "group": "Straße und Verkehr",
        "keywords": ["schlagloch", "pflaster", "gully", "straße"],
        "department": "Tiefbauamt",
        "is_auto_publish": False,
        "attributes": [
            {
                "code": "gefahr",
                "datatype": "singlevaluelist",
                "required": True,
                "description": "Besteht akute Unfallgefahr?",
                "values": _YES_NO,
            },
            {"code": "groesse_cm", "datatype": "number", "description": "Ungefähre Größe in cm"},
        ],
    },
    {
        "code": "beleuchtung",
        "name": {"de": "Straßenbeleuchtung", "en": "Street lighting"},
        "description": {"de": "Defekte oder dauerhaft brennende Straßenlaternen"},
        "group": "Straße und Verkehr",
        "keywords": ["laterne", "licht", "dunkel"],
        "department": "Stadtwerke Musterstadt",
        "is_auto_publish": True,
        "attributes": [
            {"code": "mastnummer", "datatype": "string", "description": "Nummer am Mast"},
            {
                "code": "zustand",
                "datatype": "singlevaluelist",
                "required": True,
                "description": "Was ist los?",
                "values": [
                    {"key": "aus", "name": "Leuchtet nicht"},
                    {"key": "flackert", "name": "Flackert"},
                    {"key": "tagsueber", "name": "Brennt tagsüber"},
                ],
            },
        ],
    },
    {
        "code": "muell",
        "name": {"de": "Müll / illegale Ablagerung", "en": "Litter / fly-tipping"},
        "description": {"de": "Wilder Müll, überfüllte Papierkörbe, Sperrmüll am Straßenrand"},
        "group": "Sauberkeit",
        "keywords": ["müll", "sperrmüll", "ablagerung", "papierkorb"],
        "department": "Abfallwirtschaft",
        "is_auto_publish": False,
        "attributes": [
            {
                "code": "art",
                "datatype": "multivaluelist",
                "description": "Was liegt dort?",
                "values": [
                    {"key": "hausmuell", "name": "Hausmüll"},
                    {"key": "sperrmuell", "name": "Sperrmüll"},
                    {"key": "sondermuell", "name": "Farben, Öl, Chemikalien"},
                    {"key": "gruenschnitt", "name": "Grünschnitt"},
                ],
            },
            {"code": "seit", "datatype": "datetime", "description": "Seit wann liegt es dort?"},
        ],
    },
    {
        "code": "gruenflaechen",
        "name": {"de": "Grünflächen und Bäume", "en": "Green spaces and trees"},
        "description": {"de": "Umgestürzte Bäume, abgebrochene Äste, ungepflegte Beete"},
        "group": "Grün und Umwelt",
        "keywords": ["baum", "ast", "rasen", "hecke"],
        "department": "Grünflächenamt",
        "is_auto_publish": True,
        "attributes": [
            {
                "code": "gefahr",
                "datatype": "singlevaluelist",
                "required": True,
                "description": "Droht etwas herabzufallen?",
                "values": _YES_NO,
            },
        ],
    },
    {
        "code": "spielplaetze",
        "name": {"de": "Spielplätze", "en": "Playgrounds"},
        "description": {"de": "Kaputte Spielgeräte, Scherben, Verschmutzung"},
        "group": "Grün und Umwelt",
        "keywords": ["spielplatz", "schaukel", "rutsche", "sandkasten"],
        "department": "Grünflächenamt",
        "is_auto_publish": False,
        "is_photo_required": False,
        "attributes": [
            {"code": "geraet", "datatype": "string", "description": "Welches Spielgerät?"},
            {
                "code": "beschreibung_schaden",
                "datatype": "text",
                "description": "Was genau ist kaputt?",
            },
        ],
    },
    {
        "code": "verkehrszeichen",
        "name": {"de": "Verkehrszeichen und Ampeln", "en": "Traffic signs and lights"},
        "description": {"de": "Umgefahrene, verdrehte oder verdeckte Schilder, Ampelstörungen"},
        "group": "Straße und Verkehr",
        "keywords": ["schild", "ampel", "verkehrszeichen"],
        "department": "Straßenverkehrsbehörde",
        "is_auto_publish": False,
        "attributes": [],
    },
    {
        "code": "sonstiges",
        "name": {"de": "Sonstiges", "en": "Other"},
        "description": {"de": "Alles, was in keine andere Kategorie passt"},
        "group": "Sonstiges",
        "keywords": [],
        "department": "Bürgerbüro",
        "is_auto_publish": False,
        "is_location_required": False,
        "attributes": [],
    },
]

# (category, text, lat, lon, attributes, path of (action, argument))
DEMO_REPORTS = [
    (
        "strassenschaeden",
        "Tiefes Schlagloch in der Marktstraße vor Hausnummer 12.",
        51.3105,
        9.4502,
        {"gefahr": "ja"},
        [],
    ),
    (
        "beleuchtung",
        "Die Laterne am Eingang zum Stadtpark leuchtet seit einer Woche nicht.",
        51.3052,
        9.4471,
        {"zustand": "aus", "mastnummer": "SP-17"},
        [("status", "acknowledged")],
    ),
    (
        "muell",
        "Sperrmüll (Sofa, Matratze) am Waldweg hinter dem Sportplatz abgeladen.",
        51.3251,
        9.4553,
        {"art": ["sperrmuell"]},
        [("approve", None), ("status", "acknowledged"), ("status", "in_progress")],
    ),
    (
        "gruenflaechen",
        "Ein großer Ast hängt abgebrochen über dem Gehweg an der Lindenallee.",
        51.2905,
        9.4508,
        {"gefahr": "ja"},
        [("status", "acknowledged"), ("status", "in_progress"), ("status", "resolved")],
    ),
    (
        "spielplaetze",
        "Die Schaukel auf dem Spielplatz Am Teich hat eine gerissene Kette.",
        51.3071,
        9.4652,
        {"geraet": "Schaukel"},
        [
            ("approve", None),
            ("status", "acknowledged"),
            ("status", "resolved"),
            ("reopen", "Die Kette ist wieder gerissen."),
        ],
    ),
    (
        "verkehrszeichen",
        "Das Stoppschild an der Kreuzung Bahnhofstraße ist verdreht.",
        51.3003,
        9.4455,
        {},
        [("approve", None), ("forward", "Landkreis, Straßenmeisterei")],
    ),
    (
        "sonstiges",
        "Bitte mehr Sitzbänke am Marktplatz aufstellen.",
        None,
        None,
        {},
        [("reject", "not_our_responsibility")],
    ),
    (
        "strassenschaeden",
        "Schlagloch Marktstraße 12, schon gemeldet?",
        51.3106,
        9.4502,
        {"gefahr": "nein"},
        [("merge", "Tiefes Schlagloch in der Marktstraße")],
    ),
    (
        "beleuchtung",
        "Laterne in der Gartenstraße flackert nachts.",
        51.3152,
        9.4561,
        {"zustand": "flackert"},
        [("withdraw", None)],
    ),
    (
        "gruenflaechen",
        "Die Hecke am Friedhof ragt weit in den Radweg.",
        51.2921,
        9.4633,
        {"gefahr": "nein"},
        [("hide", "Doppelte Meldung eines Anwohners")],
    ),
]


def _find(text_prefix: str) -> Report | None:
    return db.session.scalar(
        select(Report).where(Report.description.startswith(text_prefix)).order_by(Report.id)
    )


def seed_feedback(actor: Actor) -> dict[str, int]:
    created_categories = 0
    for data in DEMO_CATEGORIES:
        if categories.find_category(data["code"]) is None:
            categories.create_category(actor, **data)
            created_categories += 1
    created_reports = 0
    for code, text, lat, lon, attributes, path in DEMO_REPORTS:
        if _find(text) is not None:
            continue
        report = reports.submit_report(
            category_code=code,
            description=text,
            lat=lat,
            lon=lon,
            address=None if lat is not None else "Marktplatz",
            attributes=attributes,
            source="demo",
        ).report
        for action, argument in path:
            if action == "approve" and report.moderation_state != "published":
                moderation.approve_report(actor, report)
            elif action == "status":
                workflow.change_status(actor, report, argument)
            elif action == "forward":
                workflow.change_status(actor, report, "forwarded", forwarded_to=argument)
            elif action == "reopen":
                workflow.reopen_report(report, argument)
            elif action == "reject":
                moderation.reject_report(actor, report, argument)
            elif action == "merge":
                original = _find(argument)
                if original.moderation_state != "published":
                    moderation.approve_report(actor, original)
                workflow.merge_reports(actor, report, original)
            elif action == "withdraw":
                participation.withdraw_report(report, "hat sich erledigt")
            elif action == "hide":
                moderation.hide_report(actor, report, argument)
        created_reports += 1
    db.session.flush()
    return {"report_categories_created": created_categories, "reports_created": created_reports}
