"""Staff HTML pages: login form, logout, a start page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from cityapp.auth.permissions import end_session, login_rate_limit, start_session
from cityapp.auth.service.login import attempt_login, record_logout
from cityapp.db import db

bp = Blueprint("staff_pages", __name__, url_prefix="/staff")


def _safe_next(target: str | None) -> str:
    """Only local paths, so the login form cannot be used as an open redirect. Browsers drop
    tabs and newlines inside URLs and read a backslash as a slash, so a slash, a tab and
    another slash (or a slash and a backslash) would leave the site: refuse those outright."""
    home = url_for("staff_pages.home")
    if not target or not target.startswith("/") or target.startswith("//"):
        return home
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return home
    return target


@bp.get("/login")
def login_form():
    """The login page."""
    return render_template("staff/login.html", next=request.args.get("next", ""))


@bp.post("/login")
@login_rate_limit
def login_submit():
    """Check the form; on success start the session."""
    email = (request.form.get("email") or "").strip()[:254]
    password = (request.form.get("password") or "")[:1024]
    next_url = request.form.get("next", "")
    if not email or not password:
        flash("Bitte E-Mail-Adresse und Passwort eingeben.", "error")
        return render_template("staff/login.html", email=email, next=next_url), 422
    result = attempt_login(email, password)
    db.session.commit()
    if result.locked:
        flash(
            f"Zu viele Fehlversuche. Bitte in {result.retry_after_s} Sekunden erneut versuchen.",
            "error",
        )
        return (
            render_template("staff/login.html", email=email, next=next_url),
            429,
            {"Retry-After": str(result.retry_after_s)},
        )
    if result.user is None:
        flash("E-Mail-Adresse oder Passwort ist falsch.", "error")
        return render_template("staff/login.html", email=email, next=next_url), 401
    start_session(result.user)
    return redirect(_safe_next(next_url))


@bp.post("/logout")
def logout():
    """End this session (every copy of its cookie); other sessions of the account go on."""
    staff = g.get("staff")
    session_id = end_session()
    if staff is not None and g.get("auth_method") == "session":
        record_logout(staff, session_id)
        db.session.commit()
    flash("Sie wurden abgemeldet.", "info")
    return redirect(url_for("staff_pages.login_form"))


@bp.get("/")
def home():
    """Start page for logged-in staff."""
    if g.get("staff") is None:
        return redirect(url_for("staff_pages.login_form", next=request.path))
    return render_template("staff/home.html", user=g.staff)
