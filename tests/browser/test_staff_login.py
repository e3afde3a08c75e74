"""The staff login page in a real browser: log in, see the start page, log out."""

import pytest

from cityapp.demo import DEMO_PASSWORD
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.slow


def test_login_page_logs_in_and_out(page, live_url):
    page.goto(live_url + "/staff/")
    # Not logged in: sent to the login page, which keeps where we wanted to go.
    assert page.url.startswith(live_url + "/staff/login")
    assert page.locator("html").get_attribute("lang") == "de"
    page.get_by_label("E-Mail-Adresse").fill("redaktion@musterstadt.example")
    page.get_by_label("Passwort").fill(DEMO_PASSWORD)
    screenshot(page, "staff-login")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(live_url + "/staff/")
    assert page.get_by_role("heading", level=1).inner_text() == "Willkommen, Erik Redaktion"
    assert "editor" in page.locator("main").inner_text()
    screenshot(page, "staff-home")
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(live_url + "/staff/login")
    assert "abgemeldet" in page.get_by_role("status").inner_text()


def test_wrong_password_shows_error_and_stays(page, live_url):
    page.goto(live_url + "/staff/login")
    page.get_by_label("E-Mail-Adresse").fill("redaktion@musterstadt.example")
    page.get_by_label("Passwort").fill("falsch-falsch")
    page.get_by_role("button", name="Anmelden").click()
    alert = page.get_by_role("alert")
    assert "falsch" in alert.inner_text()
    assert page.url.startswith(live_url + "/staff/login")
    # The typed email is kept; the password is not echoed back.
    assert page.get_by_label("E-Mail-Adresse").input_value() == "redaktion@musterstadt.example"
    assert page.get_by_label("Passwort").input_value() == ""


def test_api_docs_ui_loads_from_our_own_files(page, live_url):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(live_url + "/api/docs")
    page.wait_for_selector(".swagger-ui .info", timeout=15000)
    assert "cityapp API" in page.locator(".swagger-ui .info").inner_text()
    assert requests, "the page made no requests"
    assert all(url.startswith(live_url) for url in requests), [
        u for u in requests if not u.startswith(live_url)
    ]
    screenshot(page, "api-docs")
