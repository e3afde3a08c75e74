"""Open311 payloads in XML or JSON, and the Open311 error list for every error under
/open311/ (registered as an error surface, so routing 404/405 come out the same way)."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from flask import Response, current_app, jsonify, request

from cityapp.http.xml_output import xml_bytes

# Plural element -> its children's element name.
_CHILDREN = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
XML_MIME = "text/xml"


def wanted_format() -> str:
    return "json" if request.path.endswith(".json") else "xml"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ET.Element, data: dict[str, Any]) -> None:
    for key, value in data.items():
        child = ET.SubElement(parent, key)
        if isinstance(value, dict):
            _fill(child, value)
        elif isinstance(value, list):
            item_tag = _CHILDREN.get(key, "item")
            for item in value:
                node = ET.SubElement(child, item_tag)
                if isinstance(item, dict):
                    _fill(node, item)
                else:
                    node.text = _text(item)
        else:
            child.text = _text(value)


def to_xml(root: str, payload: dict | list, item: str | None = None) -> bytes:
    element = ET.Element(root)
    if isinstance(payload, list):
        for entry in payload:
            _fill(ET.SubElement(element, item or "item"), entry)
    else:
        _fill(element, payload)
    return xml_bytes(element)


def respond(
    fmt: str, root: str, payload: dict | list, item: str | None = None, status: int = 200
) -> Response:
    if fmt == "json":
        response = jsonify(payload)
    else:
        response = current_app.response_class(
            to_xml(root, payload, item),
            mimetype=XML_MIME,
            content_type=f"{XML_MIME}; charset=utf-8",
        )
    response.status_code = status
    return response


def _joined(messages: Any) -> str:
    return " ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)


def render_open311_error(
    status: int,
    title: str,
    detail: str | None,
    slug: str | None,
    errors: dict | None,
    headers: dict[str, str],
) -> Response:
    """The spec's error list: [{code, description}]; 422 (our validation) is its 400."""
    if status == 422:
        status = 400
    description = detail or title
    if errors:
        parts = [f"{field}: {_joined(messages)}" for field, messages in errors.items()]
        description = f"{description} ({'; '.join(parts)})"
    response = respond(
        wanted_format(),
        "errors",
        [{"code": status, "description": description}],
        item="error",
        status=status,
    )
    for name, value in headers.items():
        if name != "WWW-Authenticate":
            response.headers[name] = value
    return response
