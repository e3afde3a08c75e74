"""Open311 GeoReport v2: XML and JSON per OPEN311.md, errors in the spec's format, and the
`georeport` client library from PyPI driving the server."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import requests
from georeport import GeoReport
from lxml import etree

from cityapp.db import db, utcnow
from cityapp.feedback.models import Report
from tests.feedback.conftest import IN_ALTSTADT, jpeg

BASE = "/open311/v2"


def _xml(response) -> etree._Element:
    assert response.mimetype == "text/xml", response.mimetype
    return etree.fromstring(response.data)


def _assert_error(response, status: int, fmt: str = "json") -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    if fmt == "json":
        assert response.mimetype == "application/json"
        [error] = response.get_json()
        assert error["code"] == status and error["description"]
        return error["description"]
    root = _xml(response)
    assert root.tag == "errors"
    assert root.findtext("error/code") == str(status)
    return root.findtext("error/description")


@pytest.fixture
def published(app, category, submit) -> dict:
    _, body = submit(
        contact={"email": "geheim@example.org", "name": "Gerda Geheim", "phone": "0561 999"},
        photos=[jpeg("red")],
    )
    return body


@pytest.fixture
def api_key(make_staff, make_token) -> str:
    return make_token(make_staff("moderator"), ("read", "write"))


def test_discovery(client):
    body = client.get(f"{BASE}/discovery.json").get_json()
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    endpoint = body["endpoints"][0]
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = _xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_services_and_definition(client, category, make_category):
    make_category(code="intern", name={"de": "Intern"}, is_private=True, attributes=[])
    services = client.get(f"{BASE}/services.json").get_json()
    service = next(s for s in services if s["service_code"] == "strassenschaeden")
    assert service == {
        "service_code": "strassenschaeden",
        "service_name": "Straßenschäden",
        "description": "Schlaglöcher, Risse, lose Pflastersteine",
        "metadata": True,
        "type": "realtime",
        "keywords": "schlagloch, straße",
        "group": "Straße und Verkehr",
    }
    root = _xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and root.find("service/metadata").text in ("true", "false")
    definition = client.get(f"{BASE}/services/strassenschaeden.json").get_json()
    assert definition["service_code"] == "strassenschaeden"
    first = definition["attributes"][0]
    assert first["code"] == "gefahr" and first["datatype"] == "singlevaluelist"
    assert first["required"] is True and first["order"] == 1
    assert first["values"] == [{"key": "ja", "name": "Ja"}, {"key": "nein", "name": "Nein"}]
    root = _xml(client.get(f"{BASE}/services/strassenschaeden.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("attributes/attribute/values/value/key") == "ja"
    _assert_error(client.get(f"{BASE}/services/nope.json"), 404)
    _assert_error(client.get(f"{BASE}/services/nope.xml"), 404, "xml")


def test_requests_list_and_single(app, client, published):
    body = client.get(f"{BASE}/requests.json").get_json()
    assert [r["service_request_id"] for r in body] == [str(published["id"])]
    request = body[0]
    expected_keys = {
        "service_request_id", "status", "status_notes", "service_name", "service_code",
        "description", "agency_responsible", "service_notice", "requested_datetime",
        "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
        "long", "media_url",
    }  # fmt: skip
    assert set(request) == expected_keys
    assert request["status"] == "open" and request["lat"] == IN_ALTSTADT[0]
    assert "+" in request["requested_datetime"][19:]  # offset
    assert request["media_url"].startswith("http")
    assert client.get(request["media_url"]).status_code == 200
    single = client.get(f"{BASE}/requests/{published['id']}.json").get_json()
    assert single == [request]
    root = _xml(client.get(f"{BASE}/requests/{published['id']}.xml"))
    assert root.tag == "service_requests" and root.findtext("request/service_code")
    _assert_error(client.get(f"{BASE}/requests/999999.json"), 404)


def test_request_filters_window_and_paging(app, client, category, submit, moderator_client):
    ids = [submit()[1]["id"] for _ in range(3)]
    with app.app_context():
        old = db.session.get(Report, ids[0])
        old.created_at = utcnow() - timedelta(days=100)
        db.session.commit()
    moderator_client.post(f"/api/v1/staff/reports/{ids[1]}/status", json={"status": "rejected"})
    listed = [r["service_request_id"] for r in client.get(f"{BASE}/requests.json").get_json()]
    assert listed == [str(ids[2]), str(ids[1])]  # 90-day default window
    start = (utcnow() - timedelta(days=120)).isoformat()
    everything = client.get(f"{BASE}/requests.json", query_string={"start_date": start})
    assert len(everything.get_json()) == 3
    closed = client.get(f"{BASE}/requests.json?status=closed").get_json()
    assert [r["service_request_id"] for r in closed] == [str(ids[1])]
    assert closed[0]["status"] == "closed"
    by_id = client.get(f"{BASE}/requests.json?service_request_id={ids[0]},{ids[2]}").get_json()
    assert {r["service_request_id"] for r in by_id} == {str(ids[0]), str(ids[2])}
    page = client.get(f"{BASE}/requests.json?page_size=1&page=2").get_json()
    assert [r["service_request_id"] for r in page] == [str(ids[1])]
    assert client.get(f"{BASE}/requests.json?service_code=other").get_json() == []
    _assert_error(client.get(f"{BASE}/requests.json?start_date=yesterday"), 400)
    _assert_error(client.get(f"{BASE}/requests.json?page_size=1001"), 400)
    _assert_error(client.get(f"{BASE}/requests.json?status=maybe"), 400)


def test_post_request_enters_moderation(app, client, category, api_key):
    form = {
        "api_key": api_key,
        "service_code": "strassenschaeden",
        "lat": str(IN_ALTSTADT[0]),
        "long": str(IN_ALTSTADT[1]),
        "description": "Gullydeckel fehlt",
        "email": "open311@example.org",
        "first_name": "Otto",
        "attribute[gefahr]": "ja",
        "attribute[art][]": ["loch", "riss"],
        "account_id": "abc",
    }
    response = client.post(f"{BASE}/requests.json", data=form)
    assert response.status_code == 201, response.get_data(as_text=True)
    [reply] = response.get_json()
    assert set(reply) == {"service_request_id", "token", "service_notice", "account_id"}
    assert reply["account_id"] == "abc"
    with app.app_context():
        report = db.session.get(Report, int(reply["service_request_id"]))
        assert report.source == "open311"
        assert report.attribute_values == {"gefahr": "ja", "art": ["loch", "riss"]}
        assert report.contact.name == "Otto"
    token = client.get(f"{BASE}/tokens/{reply['token']}.json").get_json()
    assert token == [{"service_request_id": reply["service_request_id"], "token": reply["token"]}]
    _assert_error(client.get(f"{BASE}/tokens/unknown.xml"), 404, "xml")
    # XML reply, multipart with a photo.
    response = client.post(
        f"{BASE}/requests.xml",
        data={**form, "media": (io.BytesIO(jpeg("blue")), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    assert _xml(response).findtext("request/service_request_id")


def test_post_errors_store_nothing(app, client, category, api_key, make_staff, make_token):
    base = {"service_code": "strassenschaeden", "description": "x", "attribute[gefahr]": "ja"}
    location = {"lat": str(IN_ALTSTADT[0]), "long": str(IN_ALTSTADT[1])}
    read_only = make_token(make_staff("moderator"), ("read",))
    cases = [
        ({**base, **location}, 403),
        ({**base, **location, "api_key": "cat_invalid"}, 403),
        ({**base, **location, "api_key": read_only}, 403),
        ({**base, "api_key": api_key}, 400),  # no location
        ({**base, **location, "api_key": api_key, "service_code": "nope"}, 404),
        ({**base, "lat": "52.5", "long": "13.4", "api_key": api_key}, 400),  # outside
        ({**base, **location, "api_key": api_key, "description": "x" * 4001}, 400),
        ({**base, **location, "api_key": api_key, "attribute[gefahr]": "vielleicht"}, 400),
    ]
    for form, status in cases:
        _assert_error(client.post(f"{BASE}/requests.json", data=form), status)
    _assert_error(client.post(f"{BASE}/requests.xml", data=base), 403, "xml")
    with app.app_context():
        assert db.session.query(Report).count() == 0


def test_routing_errors_are_open311_errors(client):
    _assert_error(client.get(f"{BASE}/nothing.json"), 404)
    _assert_error(client.get(f"{BASE}/nothing.xml"), 404, "xml")
    _assert_error(client.delete(f"{BASE}/services.json"), 405)
    _assert_error(client.get(f"{BASE}/services.html"), 404, "xml")
    _assert_error(client.get(f"{BASE}/services.json?jurisdiction_id=elsewhere"), 404)
    assert (
        client.get(f"{BASE}/services.json?jurisdiction_id=musterstadt.example").status_code == 200
    )


def test_service_request_updates(app, client, published, moderator_client, make_category, submit):
    moderator_client.post(
        f"/api/v1/staff/reports/{published['id']}/status",
        json={
            "status": "acknowledged",
            "public_note": "Wir kümmern uns",
            "internal_note": "geheim",
        },
    )
    body = client.get(f"{BASE}/servicerequestupdates.json").get_json()
    [update] = body
    assert set(update) == {
        "update_id", "service_request_id", "status", "updated_datetime", "description", "media_url",
    }  # fmt: skip
    assert update["description"] == "Wir kümmern uns" and update["status"] == "open"
    root = _xml(client.get(f"{BASE}/servicerequestupdates.xml"))
    assert root.tag == "request_updates"
    assert root.findtext("request_update/description") == "Wir kümmern uns"
    request = client.get(f"{BASE}/requests/{published['id']}.json").get_json()[0]
    assert request["status_notes"] == "Wir kümmern uns"


def test_private_categories_never_appear(app, client, make_category, districts, submit):
    make_category(code="privat", name={"de": "Privat"}, is_private=True, attributes=[])
    _, body = submit(category="privat", attributes={})
    with app.app_context():
        assert db.session.get(Report, body["id"]).moderation_state == "published"
    assert client.get(f"{BASE}/requests.json").get_json() == []
    _assert_error(client.get(f"{BASE}/requests/{body['id']}.json"), 404)
    assert app.test_client().get("/api/v1/reports").get_json()["items"] == []


# --- a real client library -------------------------------------------------------------


class FlaskAdapter(requests.adapters.BaseAdapter):
    """A requests transport that hands each request to the Flask test client (in-process:
    the suite's transaction stays in charge), so the library's own code runs unchanged."""

    def __init__(self, app):
        super().__init__()
        self.app = app

    def send(self, request, **kwargs):
        url = requests.utils.urlparse(request.url)
        path = url.path + (f"?{url.query}" if url.query else "")
        flask_response = self.app.test_client().open(
            path, method=request.method, headers=dict(request.headers), data=request.body
        )
        response = requests.Response()
        response.status_code = flask_response.status_code
        response.headers = requests.structures.CaseInsensitiveDict(flask_response.headers)
        response._content = flask_response.data
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


@pytest.fixture
def georeport_client(app, monkeypatch):
    session = requests.Session()
    session.mount("http://cityapp.test/", FlaskAdapter(app))
    for name in ("get", "post"):
        monkeypatch.setattr(requests, name, getattr(session, name))

    def factory(output_format: str) -> GeoReport:
        return GeoReport(
            "http://cityapp.test/open311/v2",
            jurisdiction="musterstadt.example",
            output_format=output_format,
        )

    return factory


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_georeport_library_reads_our_server(georeport_client, published, output_format):
    client = georeport_client(output_format)
    services = client.get_service_list()
    services = services if isinstance(services, list) else [services]
    assert services[0]["service_code"] == "strassenschaeden"
    definition = client.get_service_definition("strassenschaeden")
    attributes = definition["attributes"]
    if output_format == "xml":
        attributes = attributes["attribute"]
    assert attributes[0]["code"] == "gefahr"
    found = client.get_service_requests(service_code="strassenschaeden", status="open")
    found = found if isinstance(found, list) else [found]
    assert found[0]["service_request_id"] == str(published["id"])
    single = client.get_service_request(str(published["id"]))
    assert single["service_request_id"] == str(published["id"])
    assert "Gerda" not in str(single) and "geheim@" not in str(single)
