"""The stele player: static HTML/CSS/JS and its service worker, served under /player/."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_from_directory

from cityapp.errors import NotFound

bp = Blueprint("player", __name__, url_prefix="/player")

PLAYER_DIR = Path(__file__).resolve().parent / "player"
# Only these files are served (no directory listing, no path tricks); the type is explicit so
# a service worker is never refused for a guessed MIME type.
FILES = {
    "index.html": "text/html",
    "player.css": "text/css",
    "player.js": "text/javascript",
    "sw.js": "text/javascript",
    "icon.svg": "image/svg+xml",
}


def _send(filename: str):
    response = send_from_directory(
        PLAYER_DIR, filename, mimetype=FILES[filename], max_age=0, conditional=True
    )
    # Revalidate every time: a fleet picks up a new player on its next reload, and the
    # service worker keeps its own offline copy.
    response.headers["Cache-Control"] = "no-cache"
    if filename == "sw.js":
        # The worker controls /player/ only; it may still cache /media/ and see device API calls
        # made by the pages it controls.
        response.headers["Service-Worker-Allowed"] = "/player/"
    return response


@bp.get("/")
def index():
    """The player page a stele's browser opens full-screen."""
    return _send("index.html")


@bp.get("/<filename>")
def asset(filename: str):
    """The player's script, stylesheet and service worker."""
    if filename not in FILES:
        raise NotFound("No such player file.")
    return _send(filename)
