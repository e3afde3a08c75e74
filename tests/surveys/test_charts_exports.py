"""Charts (valid SVG with alt text, decodable PNG) and the streamed CSV exports."""

from __future__ import annotations

import csv
import io
from xml.etree import ElementTree

from PIL import Image

from tests.conftest import assert_problem

SVG = "{http://www.w3.org/2000/svg}"


def test_svg_chart_is_valid_and_accessible(make_survey, cast_ballots, client):
    ref = make_survey(results_visibility="live")
    cast_ballots(ref, 3, ref.full_ballot())
    response = client.get(f"/api/v1/surveys/{ref.id}/results/{ref.q['single']}.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-title chart-desc"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.text == "Wie kommen Sie zur Arbeit?"
    assert desc is not None
    assert "3 Antworten" in desc.text and "Fahrrad: 3 (100,0 %)" in desc.text
    assert "Bus: 0 (0,0 %)" in desc.text
    # Labels and percentages are real text in the drawing too.
    texts = "".join(root.itertext())
    assert "Fahrrad" in texts and "3 (100,0 %)" in texts
    etag = response.headers["ETag"]
    cached = client.get(
        f"/api/v1/surveys/{ref.id}/results/{ref.q['single']}.svg", headers={"If-None-Match": etag}
    )
    assert cached.status_code == 304
    english = client.get(f"/api/v1/surveys/{ref.id}/results/{ref.q['single']}.svg?lang=en")
    assert english.headers["ETag"] != etag
    english_root = ElementTree.fromstring(english.data)
    assert english_root.find(f"{SVG}title").text == "How do you get to work?"
    assert "Bike: 3 (100.0 %)" in english_root.find(f"{SVG}desc").text
    assert "Votes" in "".join(english_root.itertext())


def test_png_charts_for_every_chartable_type(make_survey, cast_ballots, client, editor_client):
    ref = make_survey()
    cast_ballots(ref, 2, ref.full_ballot())
    for key in ("single", "multi", "scale", "yes", "rank"):
        response = editor_client.get(f"/api/v1/staff/surveys/{ref.id}/results/{ref.q[key]}.png")
        assert response.status_code == 200, (key, response.data[:200])
        assert response.mimetype == "image/png"
        assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
        image = Image.open(io.BytesIO(response.data))
        image.verify()
        assert image.size[0] == 800 and image.size[1] > 100
        svg = editor_client.get(f"/api/v1/staff/surveys/{ref.id}/results/{ref.q[key]}.svg")
        assert svg.status_code == 200
        ElementTree.fromstring(svg.data)
    scale_svg = editor_client.get(f"/api/v1/staff/surveys/{ref.id}/results/{ref.q['scale']}.svg")
    desc = ElementTree.fromstring(scale_svg.data).find(f"{SVG}desc").text
    assert "Mittelwert 4,0, Median 4,0" in desc
    rank_svg = editor_client.get(f"/api/v1/staff/surveys/{ref.id}/results/{ref.q['rank']}.svg")
    assert "Rangfolge" in ElementTree.fromstring(rank_svg.data).find(f"{SVG}desc").text
    # Free text has no chart; unknown questions and formats are 404.
    assert_problem(
        editor_client.get(f"/api/v1/staff/surveys/{ref.id}/results/{ref.q['comment']}.svg"), 404
    )
    assert_problem(editor_client.get(f"/api/v1/staff/surveys/{ref.id}/results/999999.svg"), 404)
    assert_problem(
        editor_client.get(f"/api/v1/staff/surveys/{ref.id}/results/{ref.q['single']}.gif"), 404
    )
    assert_problem(client.get(f"/api/v1/staff/surveys/{ref.id}/results/{ref.q['single']}.svg"), 401)


def _csv(response) -> list[dict]:
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_ballots_csv_is_anonymous_and_complete(
    app, make_survey, cast_ballots, districts, editor_client
):
    ref = make_survey()
    other = {"question_id": ref.q["single"], "option_id": ref.o["single"][2], "other_text": "=1+1"}
    cast_ballots(ref, 1, ref.full_ballot(single=other), district_id=districts["altstadt"])
    cast_ballots(
        ref,
        1,
        ref.full_ballot(
            multi=None,
            yes={"question_id": ref.q["yes"], "value": False},
            details=None,
            comment=None,
        ),
    )
    rows = _csv(
        editor_client.get(f"/api/v1/staff/surveys/{ref.id}/exports/ballots.csv", buffered=False)
    )
    assert len(rows) == 2
    header = list(rows[0])
    assert header[:4] == ["row", "submitted_on", "channel", "district"]
    assert "Q1: Wie kommen Sie zur Arbeit?" in header
    assert "Q1: Wie kommen Sie zur Arbeit? [other text]" in header
    assert "Q2: Was fehlt im Park? [Bänke]" in header
    assert "Q6: Was ist am wichtigsten? [Ruhe]" in header
    assert not any("participant" in h or "key" in h for h in header)
    first, second = rows
    assert first["row"] == "1" and first["district"] == "Altstadt" and first["channel"] == "app"
    assert first["Q1: Wie kommen Sie zur Arbeit?"] == "Anders"
    assert first["Q1: Wie kommen Sie zur Arbeit? [other text]"] == "'=1+1"  # no formula
    assert first["Q2: Was fehlt im Park? [Bänke]"] == "1"
    assert first["Q2: Was fehlt im Park? [Licht]"] == "0"
    assert first["Q3: Wie zufrieden sind Sie?"] == "4"
    assert first["Q4: Nutzen Sie den Park?"] == "yes"
    assert first["Q5: Was gefällt Ihnen?"] == "Die Wiese"
    assert first["Q6: Was ist am wichtigsten? [Ruhe]"] == "2"
    assert first["Q7: Sonst noch etwas?"] == "Danke"
    assert second["district"] == "" and second["Q2: Was fehlt im Park? [Bänke]"] == ""
    assert second["Q4: Nutzen Sie den Park?"] == "no" and second["Q5: Was gefällt Ihnen?"] == ""
    # Nothing that identifies a participant: no keys, no database ids.
    from sqlalchemy import select

    from cityapp.db import db
    from cityapp.surveys.models import SurveyBallot

    with app.app_context():
        keys = db.session.scalars(select(SurveyBallot.participant_key)).all()
    text = editor_client.get(f"/api/v1/staff/surveys/{ref.id}/exports/ballots.csv").get_data(
        as_text=True
    )
    assert not any(key in text for key in keys)


def test_results_csv(make_survey, cast_ballots, editor_client, moderator_client):
    ref = make_survey()
    cast_ballots(ref, 2, ref.full_ballot())
    rows = _csv(
        editor_client.get(f"/api/v1/staff/surveys/{ref.id}/exports/results.csv", buffered=False)
    )
    participants = next(r for r in rows if r["title"] == "participants")
    assert participants["respondents"] == "2"
    bike = next(r for r in rows if r["answer"] == "Fahrrad")
    assert (bike["count"], bike["percent"], bike["respondents"]) == ("2", "100.0", "2")
    scale_rows = [r for r in rows if r["type"] == "scale"]
    assert [r["answer"] for r in scale_rows] == ["1", "2", "3", "4", "5"]
    assert scale_rows[3]["count"] == "2" and scale_rows[0]["mean"] == "4.0"
    rank = [r for r in rows if r["type"] == "ranking"]
    assert [r["borda_score"] for r in rank] == ["4", "2", "0"]
    assert_problem(moderator_client.get(f"/api/v1/staff/surveys/{ref.id}/exports/results.csv"), 403)
