"""The staff HTML pages through the Flask test client: the German login form, CSRF on the
form, redirects (never to another site), logout, and HTML error pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cityapp.auth.models import AuditEntry, StaffUser
from cityapp.db import db

LOGIN = "/staff/login"
HOME = "/staff/"


def _csrf_from(html: str) -> str:
    match = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)">', html)
    assert match, "the page has no csrf_token field"
    return match.group(1)


def _form_login(client, email: str, password: str, next_url: str | None = None, **kw):
    page = client.get(LOGIN)
    data = {"email": email, "password": password, "csrf_token": _csrf_from(page.text)}
    if next_url is not None:
        data["next"] = next_url
    return client.post(LOGIN, data=data, **kw)


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_login_page_is_a_german_form_with_labels_and_csrf(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.text
    assert '<html lang="de">' in html
    assert "<title>Anmeldung" in html
    assert "<h1>Anmeldung für Mitarbeitende</h1>" in html
    assert '<label for="email">E-Mail-Adresse</label>' in html
    assert '<label for="password">Passwort</label>' in html
    assert re.search(r'<input id="email" name="email" type="email" autocomplete="username"', html)
    assert re.search(r'<input id="password" name="password" type="password"', html)
    assert '<form method="post" action="/staff/login"' in html
    assert len(_csrf_from(html)) > 20
    assert '<button type="submit">Anmelden</button>' in html


def test_home_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login?next=/staff/"
    form = client.get(response.headers["Location"]).text
    assert '<input type="hidden" name="next" value="/staff/">' in form


def test_form_login_redirects_to_home_which_shows_the_user(app, client, make_staff):
    staff = make_staff("editor")
    response = _form_login(client, staff.email, staff.password)
    assert response.status_code == 302
    assert response.headers["Location"] == HOME
    assert response.headers["Set-Cookie"].startswith("cityapp_session=")
    home = client.get(HOME)
    assert home.status_code == 200
    assert "<h1>Willkommen, Test editor</h1>" in home.text
    assert "<strong>editor</strong>" in home.text
    assert "Abmelden" in home.text
    assert _actions(app)[-1] == "auth.login"


def test_wrong_password_shows_an_error_with_401(app, client, make_staff):
    staff = make_staff("editor")
    response = _form_login(client, staff.email, "falsches-passwort")
    assert response.status_code == 401
    html = response.text
    assert (
        '<p class="flash flash-error" role="alert">E-Mail-Adresse oder Passwort ist falsch.</p>'
        in (html)
    )
    assert f'value="{staff.email}"' in html  # the email is kept for another try
    assert "falsches-passwort" not in html
    assert client.get(HOME).status_code == 302
    assert _actions(app)[-1] == "auth.login_failed"


def test_unknown_email_shows_the_same_error(client):
    response = _form_login(client, "niemand@test.musterstadt.example", "falsches-passwort")
    assert response.status_code == 401
    assert "E-Mail-Adresse oder Passwort ist falsch." in response.text


def test_empty_form_is_refused_with_a_message(client):
    response = _form_login(client, "", "")
    assert response.status_code == 422
    assert "Bitte E-Mail-Adresse und Passwort eingeben." in response.text


def test_form_post_without_csrf_token_is_refused(app, client, make_staff):
    staff = make_staff("editor")
    before = _actions(app)
    response = client.post(LOGIN, data={"email": staff.email, "password": staff.password})
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "Das Formular ist abgelaufen" in response.text
    assert "Set-Cookie" not in response.headers
    assert client.get(HOME).status_code == 302
    assert _actions(app) == before  # not even a login attempt was recorded


def test_form_post_with_a_forged_csrf_token_is_refused(client, make_staff):
    staff = make_staff("editor")
    client.get(LOGIN)
    response = client.post(
        LOGIN, data={"email": staff.email, "password": staff.password, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert client.get(HOME).status_code == 302


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/staff/", "/staff/"),
        ("/api/docs", "/api/docs"),
        ("/staff/?tab=2", "/staff/?tab=2"),
        ("//evil.example", "/staff/"),
        ("//evil.example/staff/", "/staff/"),
        ("https://evil.example/", "/staff/"),
        ("/\\evil.example", "/staff/"),
        ("\\\\evil.example", "/staff/"),
        ("/\t/evil.example", "/staff/"),
        ("/\n/evil.example", "/staff/"),
        (" //evil.example", "/staff/"),
        ("javascript:alert(1)", "/staff/"),
        ("", "/staff/"),
    ],
)
def test_next_only_leads_to_local_paths(client, make_staff, next_url, expected):
    staff = make_staff("editor")
    response = _form_login(client, staff.email, staff.password, next_url=next_url)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_next_survives_a_failed_attempt(client, make_staff):
    staff = make_staff("editor")
    failed = _form_login(client, staff.email, "falsch-falsch", next_url="/api/docs")
    assert '<input type="hidden" name="next" value="/api/docs">' in failed.text
    response = _form_login(client, staff.email, staff.password, next_url="/api/docs")
    assert response.headers["Location"] == "/api/docs"


def test_logout_form_ends_the_session(app, client, make_staff):
    staff = make_staff("editor")
    _form_login(client, staff.email, staff.password)
    home = client.get(HOME).text
    assert '<form method="post" action="/staff/logout"' in home
    response = client.post("/staff/logout", data={"csrf_token": _csrf_from(home)})
    assert response.status_code == 302
    assert response.headers["Location"] == LOGIN
    page = client.get(LOGIN)
    assert '<p class="flash flash-info" role="status">Sie wurden abgemeldet.</p>' in page.text
    assert client.get(HOME).status_code == 302
    assert _actions(app)[-1] == "auth.logout"


def test_logout_form_without_csrf_is_refused(client, make_staff):
    staff = make_staff("editor")
    _form_login(client, staff.email, staff.password)
    response = client.post("/staff/logout")
    assert response.status_code == 403
    assert client.get(HOME).status_code == 200


def test_locked_account_gets_a_german_429_page(app, client, make_staff):
    staff = make_staff("editor")
    for i in range(app.config["CITYAPP_LOGIN_FAILURES_BEFORE_LOCK"]):
        _form_login(client, staff.email, "falsch", environ_base={"REMOTE_ADDR": f"10.9.0.{i}"})
    response = _form_login(client, staff.email, staff.password)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Zu viele Fehlversuche" in response.text


def test_form_login_is_rate_limited_per_ip_with_an_html_page(app, client):
    limit = int(app.config["CITYAPP_LOGIN_RATE_LIMIT"].split()[0])
    for i in range(limit):
        assert _form_login(client, f"n{i}@test.example", "falsch").status_code == 401
    response = _form_login(client, "late@test.example", "falsch")
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert "Zu viele Anfragen" in response.text
    assert int(response.headers["Retry-After"]) > 0


def test_form_and_api_logins_share_one_budget_per_ip(app, client):
    limit = int(app.config["CITYAPP_LOGIN_RATE_LIMIT"].split()[0])
    for i in range(limit):
        api = client.post("/api/v1/auth/login", json={"email": f"n{i}@t.example", "password": "x"})
        assert api.status_code == 401
    response = _form_login(client, "late@test.example", "falsch")
    assert response.status_code == 429


def test_deactivated_user_is_sent_back_to_the_login(app, client, make_staff):
    staff = make_staff("editor")
    _form_login(client, staff.email, staff.password)
    assert client.get(HOME).status_code == 200
    with app.app_context():
        from cityapp.auth.service.actors import CLI
        from cityapp.auth.service.staff import update_staff_user

        update_staff_user(CLI, db.session.get(StaffUser, staff.id), is_active=False)
        db.session.commit()
    assert client.get(HOME).status_code == 302


def test_display_names_are_escaped(app, client, make_staff):
    staff = make_staff("editor")
    with app.app_context():
        db.session.get(StaffUser, staff.id).display_name = "<script>alert(1)</script>"
        db.session.commit()
    _form_login(client, staff.email, staff.password)
    html = client.get(HOME).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_staff_error_pages_are_german_html(client):
    response = client.get("/staff/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<h1>404 \N{EN DASH} Seite nicht gefunden</h1>" in response.text
    assert '<a href="/staff/">Zur Startseite</a>' in response.text


def test_the_login_form_starts_a_session_with_a_new_csrf_token(client, make_staff):
    staff = make_staff("editor")
    before = _csrf_from(client.get(LOGIN).text)
    _form_login(client, staff.email, staff.password)
    assert client.post("/staff/logout", data={"csrf_token": before}).status_code == 403
    assert client.get(HOME).status_code == 200
