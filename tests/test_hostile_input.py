"""Hostile input never reaches a 500 (issue #12, items 1-5): every operation of the OpenAPI
document, with valid credentials for its audience, gets huge integers, non-finite numbers,
out-of-range datetimes, text that is not text and deeply nested JSON in each path parameter,
query parameter and body field it declares."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from lxml import etree

from cityapp.db import db, utcnow
from tests.conftest import ApiClient, assert_problem
from tests.content.conftest import make_announcement, make_news  # noqa: F401 - fixtures
from tests.feedback.conftest import category, make_category, report_body  # noqa: F401
from tests.kiosks.conftest import pair  # noqa: F401 - the device fixture

# Raw JSON texts: NaN, Infinity and 1e999 cannot be produced by json.dumps on purpose.
HOSTILE_JSON = [
    str(2**70),
    str(-(2**70)),
    str(2**63),
    "1e999",
    "-1e999",
    "NaN",
    "Infinity",
    json.dumps("a\ud800b"),
    json.dumps("a\x00b\x1bc"),
    json.dumps(" \u200b\t"),
    json.dumps("0001-01-01T00:00:00+14:00"),
    json.dumps("9999-12-31T23:59:59-14:00"),
    "[" * 1000 + "]" * 1000,
    json.dumps(["a\ud800b", 2**70]),
    json.dumps({"x": "a\x00b"}),
]
HOSTILE_QUERY = [
    str(2**63),
    str(2**70),
    "-" + str(2**70),
    "1e999",
    "NaN",
    "Infinity",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "a\x00b",
    "\u200b",
    "x" * 300,
]
HOSTILE_PATH = [str(2**63), str(2**70), "0", "a%00b", "%ED%A0%80", "x" * 300]


def _resolve(spec: dict, schema: dict | None) -> dict:
    while schema and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema or {}


def _properties(spec: dict, schema: dict) -> dict[str, dict]:
    schema = _resolve(spec, schema)
    props = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        props.update(_properties(spec, part))
    return props


def _baseline(spec: dict, props: dict[str, dict]) -> dict[str, Any]:
    """A body from the document's examples, so a hostile field is not the only one present."""
    body = {}
    for name, prop in props.items():
        prop = _resolve(spec, prop) if "$ref" in prop else prop
        if "example" in prop:
            body[name] = prop["example"]
    return body


def _body_text(base: dict[str, Any], field: str, raw_value: str) -> str:
    others = {k: v for k, v in base.items() if k != field}
    prefix = json.dumps(others)[:-1]
    separator = ", " if others else ""
    return f"{prefix}{separator}{json.dumps(field)}: {raw_value}}}"


def _check(response, where: str, failures: list[str]) -> None:
    if response.status_code >= 500:
        failures.append(f"{where}: {response.status_code} {response.get_data(as_text=True)[:200]}")
        return
    if response.mimetype and response.mimetype.endswith("json") and response.data:
        try:
            json.loads(
                response.get_data(as_text=True),
                parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)),
            )
        except ValueError as error:
            failures.append(f"{where}: invalid JSON ({error})")


def _fill_path(path: str, params: list[dict], hostile: str | None, target: str | None) -> str:
    for param in params:
        name = param["name"]
        value = hostile if name == target else "1"
        if param.get("schema", {}).get("type") != "integer" and name != target:
            value = "x"
        path = path.replace("{" + name + "}", value)
    return path


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    operations = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                operations.append((path, method.upper(), {**item, **operation}))
    # Deleting last, so a removed installation or revoked token cannot hide later operations.
    return sorted(operations, key=lambda op: (op[1] == "DELETE", "/me" in op[0], op[0]))


@pytest.fixture
def audiences(
    token_client,
    installation_client,
    pair,  # noqa: F811
    client,
) -> dict[str, ApiClient]:
    return {
        "staff": token_client("admin"),
        "installation": installation_client,
        "device": pair().client,
    }


def _audience(path: str) -> str:
    if path.startswith("/api/v1/staff/"):
        return "staff"
    if path.startswith("/api/device/"):
        return "device"
    return "installation"


def test_every_operation_survives_hostile_values(client, audiences) -> None:
    spec = client.get("/api/openapi.json").get_json()
    failures: list[str] = []
    count = 0
    for path, method, operation in _operations(spec):
        api = audiences[_audience(path)]
        params = operation.get("parameters", [])
        path_params = [p for p in params if p.get("in") == "path"]
        query_params = [p for p in params if p.get("in") == "query"]
        plain = _fill_path(path, path_params, None, None)
        for param in path_params:
            for value in HOSTILE_PATH:
                url = _fill_path(path, path_params, value, param["name"])
                _check(api.open(method, url), f"{method} {url}", failures)
                count += 1
        for param in query_params:
            for value in HOSTILE_QUERY:
                response = api.open(method, plain, query_string={param["name"]: value})
                _check(response, f"{method} {plain}?{param['name']}={value[:40]!r}", failures)
                count += 1
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            props = _properties(spec, content["application/json"].get("schema", {}))
            base = _baseline(spec, props)
            for field in props:
                for raw in HOSTILE_JSON:
                    response = api.open(
                        method,
                        plain,
                        data=_body_text(base, field, raw),
                        content_type="application/json",
                    )
                    _check(response, f"{method} {plain} {field}={raw[:40]}", failures)
                    count += 1
            for raw in ("[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000, "NaN"):
                response = api.open(method, plain, data=raw, content_type="application/json")
                _check(response, f"{method} {plain} <{raw[:10]}>", failures)
                count += 1
    assert count > 2000
    assert not failures, "\n".join(failures[:50])


# --- the single classes, each with its own status ----------------------------------------


def test_path_id_beyond_64_bits_is_404(client) -> None:
    assert_problem(client.get(f"/api/v1/reports/{2**63}"), 404)
    assert_problem(client.get("/api/v1/reports/0"), 404)
    response = client.get(f"/open311/v2/requests/{2**63}.json")
    assert response.status_code == 404


def test_query_id_beyond_64_bits_is_422(token_client) -> None:
    api = token_client("admin")
    assert_problem(api.get(f"/api/v1/staff/reports?assignee_id={2**63}"), 422, field="assignee_id")


def test_open311_ids_and_dates_out_of_range_are_400(client) -> None:
    response = client.get(f"/open311/v2/requests.json?service_request_id={2**70},1")
    assert response.status_code == 200 and response.get_json() == []
    for value in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        response = client.get("/open311/v2/requests.json", query_string={"start_date": value})
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()[0]["code"] == 400
    response = client.get(f"/open311/v2/requests.xml?page={2**70}")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    ["[" * 1000 + "]" * 1000, '{"email": ' + "[" * 40 + "]" * 40 + ', "password": "x"}'],
)
def test_deep_json_is_refused_before_parsing(client, body: str) -> None:
    response = client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert_problem(response, 400, field="body")


def test_deep_json_in_multipart_data_is_refused(client) -> None:
    response = client.post(
        "/api/v1/reports",
        data={"data": "[" * 1000 + "]" * 1000},
        content_type="multipart/form-data",
    )
    assert_problem(response, 400, field="data")


def test_brackets_inside_strings_do_not_count(app) -> None:
    from cityapp.http.json_guard import json_depth_exceeds

    assert not json_depth_exceeds('{"a": "' + "[" * 100 + '\\""}', 32)
    assert json_depth_exceeds("[" * 33 + "]" * 33, 32)
    assert not json_depth_exceeds("[" * 32 + "]" * 32, 32)


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e999", '"NaN"', '"1e999"'])
def test_non_finite_attribute_is_422(client, category, raw: str) -> None:  # noqa: F811
    body = json.dumps(report_body())[:-1] + ', "attributes": {"gefahr": "ja", "groesse_cm": '
    response = client.post(
        "/api/v1/reports", data=body + raw + "}}", content_type="application/json"
    )
    assert_problem(response, 422)


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("seit", "0001-01-01T00:00:00+00:00"),
        ("seit", "9999-12-31T23:59:59-14:00"),
        ("notiz", "a\x00b"),
        ("notiz", "a\ud800b"),
        ("groesse_cm", 2**70),
    ],
)
def test_hostile_attribute_values_are_field_errors(client, category, code, value) -> None:  # noqa: F811
    body = report_body(attributes={"gefahr": "ja", code: value})
    response = client.post("/api/v1/reports", json=body)
    assert_problem(response, 422, field=f"attributes.{code}")


def test_json_provider_refuses_to_emit_nan(app) -> None:
    with app.app_context(), pytest.raises(ValueError):
        app.json.dumps({"x": float("nan")})


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_datetime_out_of_range_is_422(client, token_client, value: str) -> None:
    assert_problem(client.get("/api/v1/news", query_string={"updated_since": value}), 422)
    api = token_client("admin")
    response = api.get("/api/v1/staff/audit", query_string={"since": value})
    assert_problem(response, 422, field="since")


@pytest.mark.parametrize("text", ["a\ud800b", "a\x00b", "a\x1bb", " \u200b\ufeff "])
def test_text_that_is_not_text_is_a_field_error(token_client, text: str) -> None:
    api = token_client("admin")
    response = api.post("/api/v1/staff/districts", json={"name": text, "slug": "neu"})
    assert_problem(response, 422, field="name")


def test_required_text_of_only_invisible_characters_is_empty(app) -> None:
    from marshmallow import Schema

    from cityapp.fields import Text

    class Named(Schema):
        name = Text(required=True)

    assert Named().validate({"name": " \u200b\ufeff\t"}) == {"name": ["Must not be empty."]}
    assert Named().validate({"name": "ok\tfine\n"}) == {}


def test_open311_form_text_that_is_not_text_is_400(client) -> None:
    response = client.post(
        "/open311/v2/requests.json", data={"service_code": "x\x00", "api_key": "k"}
    )
    assert response.status_code == 400, response.get_data(as_text=True)


def test_lang_longer_than_20_characters_falls_back(client) -> None:
    response = client.get("/api/v1/news", query_string={"lang": "x" * 40})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Language"] == "de"


def test_heartbeat_refuses_surrogates_and_huge_numbers(pair) -> None:  # noqa: F811
    device = pair().client
    for body in ('{"player_version": "a\\ud800b"}', '{"uptime_s": ' + str(2**70) + "}"):
        response = device.post(
            "/api/device/v1/heartbeat", data=body, content_type="application/json"
        )
        assert_problem(response, 422)


def test_xml_serialiser_drops_what_xml_cannot_hold() -> None:
    from xml.etree import ElementTree as ET

    from cityapp.http.xml_output import xml_bytes

    element = ET.Element("root", note="a\x00b")
    ET.SubElement(element, "child").text = "bad\x01\ud800text"
    parsed = etree.fromstring(xml_bytes(element))
    assert parsed.find("child").text == "badtext"
    assert parsed.get("note") == "ab"


STORED_TITLE = "Stadtfest\x00 am\x1b Samstag\ud800"


def test_feeds_and_cap_are_well_formed_for_rows_stored_with_control_characters(
    app,
    client,
    make_news,  # noqa: F811
    make_announcement,  # noqa: F811
) -> None:
    from sqlalchemy import update

    from cityapp.content.models import Announcement, NewsItem

    news_id = make_news()
    now = utcnow()
    announcement_id = make_announcement(
        level="emergency",
        category="public_safety",
        valid_from=now - timedelta(hours=1),
        valid_until=now + timedelta(hours=6),
    )
    with app.app_context():
        # Written around the schemas, as rows stored before input was checked are.
        db.session.execute(
            update(NewsItem).where(NewsItem.id == news_id).values(title={"de": STORED_TITLE})
        )
        db.session.execute(
            update(Announcement)
            .where(Announcement.id == announcement_id)
            .values(title={"de": STORED_TITLE}, body={"de": "<p>Text\x07</p>"})
        )
        db.session.commit()
    for url in (
        "/feeds/news.rss",
        "/feeds/news.atom",
        "/feeds/announcements.rss",
        "/feeds/announcements.atom",
        "/feeds/cap.atom",
        f"/feeds/cap/{announcement_id}.xml",
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
        document = etree.fromstring(response.data)
        assert document is not None
        assert b"Stadtfest am Samstag" in response.data or url.startswith("/feeds/cap"), url


def test_open311_error_list_is_well_formed_xml_for_hostile_names(client) -> None:
    response = client.post("/open311/v2/requests.xml", data={"attribute[a\x01]": "x"})
    assert response.status_code == 400
    document = etree.fromstring(response.data)
    assert document.findtext("error/code") == "400"
