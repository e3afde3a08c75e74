"""Static files of the API docs UI, served from the pinned swagger-ui-bundle package (no CDN)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, redirect, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("apidocs_static", __name__)

_ALLOWED = {
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "swagger-ui-standalone-preset.js",
    "favicon-32x32.png",
    "favicon-16x16.png",
}


@bp.get("/api/docs/static/<path:filename>")
def swagger_static(filename: str):
    """Swagger UI's own script and stylesheet."""
    if filename not in _ALLOWED:
        from cityapp.errors import NotFound

        raise NotFound("No such docs asset.")
    response = send_from_directory(Path(swagger_ui_path), filename, max_age=86400)
    return response


@bp.get("/")
def index():
    """The bare host name leads people to the staff pages."""
    return redirect(url_for("staff_pages.home"))
