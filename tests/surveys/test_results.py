"""Results: exact aggregates, the visibility policy, k-threshold district breakdown, free-text
moderation, ETags, and the public list/detail reads."""

from __future__ import annotations

from sqlalchemy import select

from cityapp.auth.models import AuditEntry
from cityapp.db import db
from cityapp.surveys.models import Survey
from cityapp.surveys.service.results import _median, _suppress
from tests.conftest import assert_problem
from tests.surveys.conftest import t


def _three_ballots(ref):
    q, o = ref.q, ref.o
    return [
        ref.full_ballot(),  # single 0, multi [0,1], scale 4, yes, details, rank r0 r1 r2
        ref.full_ballot(
            single={"question_id": q["single"], "option_id": o["single"][1]},
            multi={"question_id": q["multi"], "option_ids": [o["multi"][1]]},
            scale={"question_id": q["scale"], "value": 2},
            details={"question_id": q["details"], "text": "Die Bäume"},
            rank={"question_id": q["rank"], "ranking": [o["rank"][1], o["rank"][0], o["rank"][2]]},
            comment=None,
        ),
        ref.full_ballot(
            multi={"question_id": q["multi"], "option_ids": [o["multi"][1], o["multi"][2]]},
            scale={"question_id": q["scale"], "value": 5},
            yes={"question_id": q["yes"], "value": False},
            details=None,
            rank={"question_id": q["rank"], "ranking": [o["rank"][0], o["rank"][2], o["rank"][1]]},
            comment=None,
        ),
    ]


def test_aggregates_are_exact(make_survey, cast_ballots, editor_client):
    ref = make_survey()
    ballots = _three_ballots(ref)
    cast_ballots(ref, 3, lambda n: ballots[(n - 1) % 3])
    response = editor_client.get(f"/api/v1/staff/surveys/{ref.id}/results")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["participants"] == 3 and body["status"] == "open"
    blocks = {b["question_id"]: b for b in body["questions"]}
    single = blocks[ref.q["single"]]
    assert single["respondents"] == 3
    assert [(o["count"], o["percent"]) for o in single["options"]] == [
        (2, 66.7),
        (1, 33.3),
        (0, 0.0),
    ]
    assert single["options"][2]["is_other"] is True and single["options"][2]["other_texts"] == []
    multi = blocks[ref.q["multi"]]
    assert multi["respondents"] == 3
    assert [(o["count"], o["percent"]) for o in multi["options"]] == [
        (1, 33.3),
        (3, 100.0),
        (1, 33.3),
    ]
    scale = blocks[ref.q["scale"]]["scale"]
    assert scale["mean"] == 3.67 and scale["median"] == 4
    assert [b["count"] for b in scale["distribution"]] == [0, 1, 0, 1, 1]
    assert scale["min_label"] == "gar nicht" and scale["max_label"] == "sehr"
    yes = blocks[ref.q["yes"]]
    assert [(o["value"], o["label"], o["count"], o["percent"]) for o in yes["options"]] == [
        (True, "Ja", 2, 66.7),
        (False, "Nein", 1, 33.3),
    ]
    rank = blocks[ref.q["rank"]]
    assert rank["respondents"] == 3
    assert [o["option_id"] for o in rank["options"]] == ref.o["rank"]
    assert [o["borda_score"] for o in rank["options"]] == [5, 3, 1]
    assert [o["average_rank"] for o in rank["options"]] == [1.33, 2.0, 2.67]
    assert rank["options"][0]["rank_counts"] == [2, 1, 0]
    details = blocks[ref.q["details"]]
    assert details["respondents"] == 2 and details["texts"] == []
    assert details["moderation"] == {"pending": 2, "approved": 0, "rejected": 0}
    assert blocks[ref.q["comment"]]["respondents"] == 1


def test_median_from_distribution():
    assert _median([(1, 1), (2, 1)]) == 1.5
    assert _median([(1, 0), (2, 3), (3, 1)]) == 2
    assert _median([(0, 1), (10, 1)]) == 5
    assert _median([(1, 0)]) is None


def test_after_close_results_do_not_leak_before_close(
    make_survey, cast_ballots, client, editor_client, close_survey
):
    ref = make_survey()
    cast_ballots(ref, 2, ref.full_ballot())
    for path in (
        f"/api/v1/surveys/{ref.id}/results",
        f"/api/v1/surveys/{ref.id}/results?by=district",
        f"/api/v1/surveys/{ref.id}/results/{ref.q['single']}.svg",
        f"/api/v1/surveys/{ref.id}/results/{ref.q['single']}.png",
    ):
        body = assert_problem(client.get(path), 403)
        assert "participants" not in body and "questions" not in body
    detail = client.get(f"/api/v1/surveys/{ref.id}").get_json()
    assert detail["results_available"] is False
    assert editor_client.get(f"/api/v1/staff/surveys/{ref.id}/results").status_code == 200
    close_survey(ref.id)
    response = client.get(f"/api/v1/surveys/{ref.id}/results")
    assert response.status_code == 200
    assert response.get_json()["participants"] == 2 and response.get_json()["status"] == "closed"
    assert "moderation" not in response.get_json()["questions"][0]
    assert client.get(f"/api/v1/surveys/{ref.id}").get_json()["results_available"] is True


def test_live_and_staff_only_policies(
    make_survey, cast_ballots, client, editor_client, close_survey
):
    live = make_survey(results_visibility="live")
    cast_ballots(live, 1, live.full_ballot())
    response = client.get(f"/api/v1/surveys/{live.id}/results")
    assert response.status_code == 200 and response.get_json()["participants"] == 1
    hidden = make_survey(results_visibility="staff_only")
    cast_ballots(hidden, 1, hidden.full_ballot())
    close_survey(hidden.id)
    assert_problem(client.get(f"/api/v1/surveys/{hidden.id}/results"), 403)
    staff = editor_client.get(f"/api/v1/staff/surveys/{hidden.id}/results")
    assert staff.status_code == 200 and staff.get_json()["participants"] == 1
    draft = make_survey(publish=False, results_visibility="live")
    assert_problem(client.get(f"/api/v1/surveys/{draft.id}/results"), 404)
    assert_problem(client.get(f"/api/v1/surveys/{draft.id}"), 404)


def test_suppression_rule():
    assert _suppress({1: 6, 2: 5, None: 7}, 5) == set()
    # One small group alone could be recovered from the total: hide the next smallest too.
    assert _suppress({1: 6, 2: 5, 3: 2}, 5) == {3, 2}
    assert _suppress({1: 6, 2: 3, 3: 2}, 5) == {2, 3}
    assert _suppress({1: 4}, 5) == {1}


def test_district_breakdown_applies_k_threshold(
    make_survey, cast_ballots, districts, editor_client, client
):
    ref = make_survey(results_visibility="live")
    first, second, third = districts["altstadt"], districts["oberdorf"], districts["nordviertel"]
    ballot = ref.full_ballot()
    cast_ballots(ref, 6, ballot, district_id=first)
    cast_ballots(ref, 5, ballot, district_id=second)
    cast_ballots(ref, 2, ballot, district_id=third)
    response = client.get(f"/api/v1/surveys/{ref.id}/results?by=district")
    assert response.status_code == 200, response.get_json()
    breakdown = response.get_json()["districts"]
    assert breakdown["k"] == 5
    # The third district (2 ballots) is hidden, and so is the second: 2 alone would be 13 - 11.
    assert breakdown["suppressed_groups"] == 2
    assert [g["district_id"] for g in breakdown["groups"]] == [first]
    group = breakdown["groups"][0]
    assert group["name"] == "Altstadt" and group["participants"] == 6
    blocks = {b["question_id"]: b for b in group["questions"]}
    assert blocks[ref.q["single"]]["options"][0]["count"] == 6
    assert ref.q["details"] not in blocks  # free text never broken down
    # Plain results have no breakdown unless asked for.
    assert "districts" not in client.get(f"/api/v1/surveys/{ref.id}/results").get_json()
    # A survey-specific k: with k=2 every group shows.
    with editor_client.client.application.app_context():
        db.session.get(Survey, ref.id).district_threshold = 2
        db.session.commit()
    staff = editor_client.get(f"/api/v1/staff/surveys/{ref.id}/results?by=district").get_json()
    assert staff["districts"]["k"] == 2 and staff["districts"]["suppressed_groups"] == 0
    assert sorted(g["participants"] for g in staff["districts"]["groups"]) == [2, 5, 6]


def test_per_question_cells_below_k_are_suppressed(make_survey, cast_ballots, districts, client):
    ref = make_survey(results_visibility="live")
    cast_ballots(ref, 3, ref.full_ballot(), district_id=districts["altstadt"])
    cast_ballots(ref, 3, ref.full_ballot(scale=None), district_id=districts["altstadt"])
    cast_ballots(ref, 6, ref.full_ballot(), district_id=districts["oberdorf"])
    groups = client.get(f"/api/v1/surveys/{ref.id}/results?by=district").get_json()["districts"]
    first = next(g for g in groups["groups"] if g["district_id"] == districts["altstadt"])
    scale = next(b for b in first["questions"] if b["question_id"] == ref.q["scale"])
    assert scale == {"question_id": ref.q["scale"], "type": "scale", "suppressed": True}
    single = next(b for b in first["questions"] if b["question_id"] == ref.q["single"])
    assert single["respondents"] == 6


def test_free_text_is_published_only_after_moderation(
    app, make_survey, cast_ballots, client, login_client, make_staff, editor_client
):
    ref = make_survey(results_visibility="live")
    other = {
        "question_id": ref.q["single"],
        "option_id": ref.o["single"][2],
        "other_text": "Zu Fuß",
    }
    cast_ballots(ref, 1, ref.full_ballot(single=other))
    cast_ballots(
        ref, 1, ref.full_ballot(details={"question_id": ref.q["details"], "text": "Meine Adresse"})
    )
    results = client.get(f"/api/v1/surveys/{ref.id}/results").get_json()
    blocks = {b["question_id"]: b for b in results["questions"]}
    assert blocks[ref.q["details"]]["texts"] == []
    assert blocks[ref.q["single"]]["options"][2]["other_texts"] == []
    etag = client.get(f"/api/v1/surveys/{ref.id}/results").headers["ETag"]

    moderator = login_client(make_staff("moderator"))
    queue = moderator.get(f"/api/v1/staff/surveys/{ref.id}/texts")
    assert queue.status_code == 200
    items = queue.get_json()["items"]
    assert {i["text"] for i in items} == {"Zu Fuß", "Die Wiese", "Meine Adresse", "Danke"}
    assert all(i["moderation_status"] == "pending" for i in items)
    by_text = {i["text"]: i["id"] for i in items}
    assert_problem(
        editor_client.post(
            f"/api/v1/staff/survey-texts/{by_text['Die Wiese']}/moderation",
            json={"status": "approved"},
        ),
        403,
    )
    for text, status in (("Die Wiese", "approved"), ("Zu Fuß", "approved")):
        response = moderator.post(
            f"/api/v1/staff/survey-texts/{by_text[text]}/moderation", json={"status": status}
        )
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["moderation_status"] == status
    rejected = moderator.post(
        f"/api/v1/staff/survey-texts/{by_text['Meine Adresse']}/moderation",
        json={"status": "rejected", "reason": "personal data"},
    )
    assert rejected.status_code == 200
    assert_problem(
        moderator.post(
            f"/api/v1/staff/survey-texts/{by_text['Danke']}/moderation", json={"status": "pending"}
        ),
        422,
        field="status",
    )
    response = client.get(f"/api/v1/surveys/{ref.id}/results", headers={"If-None-Match": etag})
    assert response.status_code == 200  # moderation changed the results: new ETag
    blocks = {b["question_id"]: b for b in response.get_json()["questions"]}
    assert blocks[ref.q["details"]]["texts"] == ["Die Wiese"]
    assert blocks[ref.q["single"]]["options"][2]["other_texts"] == ["Zu Fuß"]
    assert blocks[ref.q["comment"]]["texts"] == []
    remaining = moderator.get(f"/api/v1/staff/surveys/{ref.id}/texts").get_json()["items"]
    assert [i["text"] for i in remaining] == ["Danke", "Danke"]
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "survey.text_moderated")
        ).all()
        assert len(entries) == 3
        assert any("personal data" in e.summary for e in entries)


def test_results_etag_and_304(make_survey, cast_ballots, client):
    ref = make_survey(results_visibility="live")
    cast_ballots(ref, 1, ref.full_ballot())
    first = client.get(f"/api/v1/surveys/{ref.id}/results")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get(f"/api/v1/surveys/{ref.id}/results", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    weak = client.get(f"/api/v1/surveys/{ref.id}/results", headers={"If-None-Match": "W/" + etag})
    assert weak.status_code == 304
    english = client.get(
        f"/api/v1/surveys/{ref.id}/results?lang=en", headers={"If-None-Match": etag}
    )
    assert english.status_code == 200 and english.headers["Content-Language"] == "en"
    cast_ballots(ref, 1, ref.full_ballot())
    changed = client.get(f"/api/v1/surveys/{ref.id}/results", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["participants"] == 2


def test_public_list_by_channel_district_and_language(make_survey, districts, client):
    everywhere = make_survey(title=t("Für alle", "For everyone"))
    targeted = make_survey(title=t("Nur Altstadt"), district_ids=[districts["altstadt"]])
    stele = make_survey(
        [
            (
                "q",
                {
                    "type": "single_choice",
                    "title": t("q"),
                    "options": [{"label": t("a")}, {"label": t("b")}],
                },
            )
        ],
        channels=["stele"],
    )
    make_survey(publish=False)

    def ids(query=""):
        response = client.get(f"/api/v1/surveys{query}")
        assert response.status_code == 200, response.get_json()
        return [s["id"] for s in response.get_json()["items"]]

    assert ids() == [targeted.id, everywhere.id]
    assert ids(f"?district_id={districts['oberdorf']}") == [everywhere.id]
    assert ids(f"?district_id={districts['altstadt']}") == [targeted.id, everywhere.id]
    assert ids("?channel=stele") == [stele.id]
    response = client.get("/api/v1/surveys?lang=en&limit=1")
    assert response.headers["Content-Language"] == "en"
    page = response.get_json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    assert 'rel="next"' in response.headers["Link"]
    second = client.get(f"/api/v1/surveys?lang=en&limit=1&cursor={page['next_cursor']}").get_json()
    assert second["items"][0]["title"] == "For everyone"
    assert page["items"][0]["title"] == "Nur Altstadt"  # no English: German fallback
    assert set(page["items"][0]) >= {
        "id",
        "status",
        "closes_at",
        "participants",
        "results_available",
    }
    etag = response.headers["ETag"]
    cached = client.get("/api/v1/surveys?lang=en&limit=1", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert_problem(client.get("/api/v1/surveys?channel=fax"), 422, field="channel")


def test_public_detail_in_one_language(make_survey, client):
    ref = make_survey()
    response = client.get(f"/api/v1/surveys/{ref.id}", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["title"] == "Park survey" and body["status"] == "open"
    single = body["questions"][0]
    assert single["title"] == "How do you get to work?"
    assert [o["label"] for o in single["options"]] == ["Bike", "Bus", "Other"]
    assert body["questions"][1]["title"] == "Was fehlt im Park?"  # falls back to German
    details = body["questions"][4]
    assert details["condition"] == {"question_id": ref.q["yes"], "values": [True]}
    etag = response.headers["ETag"]
    assert (
        client.get(
            f"/api/v1/surveys/{ref.id}", headers={"If-None-Match": etag, "Accept-Language": "en"}
        ).status_code
        == 304
    )
    assert_problem(client.get("/api/v1/surveys/999999"), 404)


def test_counter_cells_match_a_group_by_over_the_answers(
    app, make_survey, cast_ballots, make_installation, districts
):
    from cityapp.surveys.service.cells import (
        count_cells_from_answers,
        load_stored_cells,
        rebuild_result_cells,
    )
    from cityapp.surveys.service.results import compute_results

    ref = make_survey(results_visibility="live")
    ballots = _three_ballots(ref)
    cast_ballots(ref, 9, lambda n: ballots[n % 3], district_id=districts["oberdorf"])
    cast_ballots(ref, 4, lambda n: ballots[n % 3])
    # Replacements move answers and districts: the old cells are decremented.
    api = make_installation()
    path = f"/api/v1/surveys/{ref.id}/ballots"
    for number, district in enumerate(
        (districts["altstadt"], None, districts["nordviertel"], districts["nordviertel"])
    ):
        response = api.post(path, json={"answers": ballots[number % 3], "district_id": district})
        assert response.status_code in (200, 201), response.get_json()
    with app.app_context():
        survey = db.session.get(Survey, ref.id)
        expected = {key: n for key, n in count_cells_from_answers(survey).items() if n}
        assert load_stored_cells(survey) == expected
        assert expected[(ref.q["single"], 0, "n")] == 4
        assert expected[(ref.q["single"], districts["nordviertel"], "n")] == 1
        assert (ref.q["single"], districts["altstadt"], "n") not in expected

        def plain(values):
            return (values or {}).get("de")

        before = compute_results(survey, plain, by_district=True)
        rebuild_result_cells(survey)
        after = compute_results(survey, plain, by_district=True)
        before.pop("computed_at"), after.pop("computed_at")
        assert before == after


def test_text_correction_changes_the_public_etag(make_survey, cast_ballots, client, editor_client):
    ref = make_survey()
    cast_ballots(ref, 1, ref.full_ballot())
    first = client.get(f"/api/v1/surveys/{ref.id}")
    path = f"/api/v1/staff/surveys/{ref.id}/questions/{ref.q['yes']}"
    corrected = editor_client.patch(path, json={"title": t("Nutzen Sie den Stadtpark?")})
    assert corrected.status_code == 200, corrected.get_json()
    second = client.get(
        f"/api/v1/surveys/{ref.id}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert second.status_code == 200
    titles = [q["title"] for q in second.get_json()["questions"]]
    assert "Nutzen Sie den Stadtpark?" in titles
