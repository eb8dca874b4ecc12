"""Multi-Channel > Marketplaces in headless Chromium (Debian's ``chromium``, driven by Playwright).

Signs in to Airflow, opens the page from the navigation, connects a main channel through the
sandbox's consent page and back, gets the wrong-Seller-ID error the browser's remembered Seller
Central session causes, connects an International Listing channel with its own Seller ID, and sees
a replayed and a tampered ``state`` refused. Screenshots go to the test's tmp dir; the page's and
the navigation's are copied to ``docs/marketplaces.png`` and ``docs/marketplaces-navigation.png`` for
the README when those are missing or ``MIP_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import ROOT
from tests.marketplaces.conftest import PREFIX, connection_extra

CHROMIUM = Path(os.environ.get("MIP_CHROMIUM", "/usr/bin/chromium"))  # Debian's; never a downloaded browser
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"Debian's chromium is not installed ({CHROMIUM}): install it "
        "with `apt-get install -y chromium` to run the browser tests (.ci/run does it in CI)",
    ),
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1440, "height": 1000},
        )
        context.set_default_timeout(30_000)
        yield context
        context.close()


def sign_in_to_airflow(page, base_url: str) -> None:
    page.context.clear_cookies()  # signed out, whichever test of the module's browser ran before
    page.goto(f"{base_url}/")
    page.wait_for_url("**/auth/login**")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "admin")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/auth/login" not in url)


def open_marketplaces_from_the_navigation(context, page, shots: Path):
    """Plugins > Multi-Channel > Marketplaces (a new tab: Amazon's consent page cannot be framed)."""
    page.get_by_role("button", name="Plugins").click()
    page.get_by_text("Multi-Channel", exact=True).hover()
    link = page.get_by_role("menuitem", name="Marketplaces").or_(page.get_by_role("link", name="Marketplaces"))
    link.first.wait_for()
    page.screenshot(path=shots / "airflow-navigation.png")
    with context.expect_page() as opened:
        link.first.click()
    marketplaces = opened.value
    marketplaces.wait_for_load_state()
    return marketplaces


def sign_in_on_amazon(page, email: str, password: str, country: str) -> None:
    page.wait_for_selector("#confirm")
    if page.locator("#signed-in").count():
        page.click("#signout")
        page.wait_for_selector("#ap_email")
    page.fill("#ap_email", email)
    page.fill("#ap_password", password)
    page.select_option("#country", country)
    page.click("#confirm")


def update_docs_screenshot(shot: Path, target: Path) -> None:
    """Copy to docs/ when missing or when MIP_UPDATE_SCREENSHOTS=1 (not on every run: it would dirty the tree)."""
    if not target.exists() or os.environ.get("MIP_UPDATE_SCREENSHOTS") == "1":
        target.parent.mkdir(exist_ok=True)
        shutil.copy(shot, target)


def notice(page) -> str:
    return page.locator("#notice").inner_text()


def test_connect_channels_through_amazon(browser, airflow_server, tmp_path):
    sandbox, base = airflow_server.sandbox, airflow_server.base_url
    demo, other = sandbox.account("demo"), sandbox.account("other")
    airflow = browser.new_page()
    sign_in_to_airflow(airflow, base)
    page = open_marketplaces_from_the_navigation(browser, airflow, tmp_path)
    assert page.url == f"{base}{PREFIX}/"
    assert page.locator("#channel-fr_other").inner_text().startswith("fr_other")
    assert "mip_migrate_csv__it" in page.locator("#channel-it").inner_text()
    callbacks: list[str] = []
    page.on("request", lambda request: callbacks.append(request.url) if "/callback?" in request.url else None)

    # 1. a main channel: Seller ID + country -> the sandbox's consent page -> back, stored
    page.fill("#main-seller", "A1MIPDEMOSELLER")
    page.select_option("#main-country", "IT")
    page.click("#connect-main button[type=submit]")
    page.wait_for_url(f"{sandbox.base_url}/apps/authorize/consent?**")
    sign_in_on_amazon(page, demo["login_email"], demo["login_password"], "IT")
    page.wait_for_url(f"{base}{PREFIX}/?attempt=*")
    assert notice(page).startswith("Connected"), notice(page)
    assert "authorized" in page.locator("#account-demo .authorization").inner_text()
    stored = connection_extra("amazon_sp_api_mp_demo")
    assert (stored["seller_id"], stored["refresh_token"]) == (
        "A1MIPDEMOSELLER",
        sandbox.account("demo")["refresh_token"],
    )

    # 2. the callback cannot be replayed
    replay = page.goto(callbacks[-1])
    assert replay.status == 400 and "already used" in notice(page)
    page.goto(f"{base}{PREFIX}/")

    # 3. account "other" has no connection yet: reuse the application's credentials of demo's
    page.select_option("#account-other select[name=copy_from]", "demo")
    page.click("#account-other form.app-credentials button[type=submit]")
    assert notice(page).startswith("Application credentials saved")
    assert demo["lwa_client_secret"] not in page.content()  # secrets never reach the browser

    # 4. International Listing with its own Seller ID, but Seller Central still remembers demo
    def international() -> None:
        page.select_option("#intl-main", "it")
        page.fill("#intl-seller", "A2MIPOTHERSELLER")
        page.select_option("#intl-country", "FR")
        page.click("#connect-international button[type=submit]")
        page.wait_for_url(f"{sandbox.base_url}/apps/authorize/consent?**")

    international()
    assert "A1MIPDEMOSELLER" in page.locator("#signed-in").inner_text()
    page.click("#confirm")
    page.wait_for_url(f"{base}{PREFIX}/?attempt=*")
    shown = notice(page)
    assert shown.startswith("Amazon authorized another seller"), shown
    assert "private (incognito) window" in shown
    page.screenshot(path=tmp_path / "wrong-seller.png", full_page=True)
    assert "refresh_token" not in connection_extra("amazon_sp_api_mp_other")

    # 5. the same, signed in as the right seller
    international()
    sign_in_on_amazon(page, other["login_email"], other["login_password"], "FR")
    page.wait_for_url(f"{base}{PREFIX}/?attempt=*")
    shown = notice(page)
    assert shown.startswith("Connected"), shown
    assert "Build International Listings is configured on Amazon" in shown
    assert connection_extra("amazon_sp_api_mp_other")["seller_id"] == "A2MIPOTHERSELLER"
    page.screenshot(path=tmp_path / "marketplaces.png", full_page=True)
    for name in ("marketplaces.png", "airflow-navigation.png"):
        update_docs_screenshot(tmp_path / name, ROOT / "docs" / name.replace("airflow-", "marketplaces-"))

    # 6. a tampered state comes back from Amazon and is refused
    page.click("#reset-demo")
    page.wait_for_url(f"{sandbox.base_url}/apps/authorize/consent?**")
    state = parse_qs(urlsplit(page.url).query)["state"][0]
    page.goto(page.url.replace(state, state[:-3] + ("xyz" if not state.endswith("xyz") else "abc")))
    sign_in_on_amazon(page, demo["login_email"], demo["login_password"], "IT")
    page.wait_for_url(f"{base}{PREFIX}/callback?**")
    assert "invalid signature" in notice(page)
    page.screenshot(path=tmp_path / "tampered-state.png", full_page=True)


def test_the_connection_form_shows_the_amazon_sp_api_fields(browser, airflow_server, tmp_path):
    """Admin > Connections > Add Connection, type Amazon SP-API: the provider's ``conn-fields`` are the form
    (secrets as password inputs), the standard fields it does not use are hidden."""
    page = browser.new_page()
    page.set_viewport_size({"width": 1200, "height": 1500})  # the whole form in the screenshot
    sign_in_to_airflow(page, airflow_server.base_url)
    page.goto(f"{airflow_server.base_url}/connections")
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("textbox").first.fill("amazon_sp_api_example")
    dialog.get_by_role("combobox").click()
    page.keyboard.type("Amazon SP")
    page.get_by_role("option", name="Amazon SP-API").click()
    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    dialog.get_by_text("Refresh token", exact=True).wait_for()
    labels = [text.strip(" *\n") for text in dialog.locator("label").all_inner_texts()]
    dialog.screenshot(path=tmp_path / "connection-form.png")
    update_docs_screenshot(tmp_path / "connection-form.png", ROOT / "docs" / "connection-form.png")

    fields = [
        "Seller ID",
        "Region",
        "SP-API application id",
        "LWA client id",
        "LWA client secret",
        "Refresh token",
        "Authorization date",
        "Endpoint override",
    ]
    assert [label for label in labels if label in fields] == fields, labels
    assert not {"Host", "Port", "Login", "Password", "Schema"} & set(labels), labels
    assert dialog.locator("input[type=password]").count() == 2, "the LWA client secret and the refresh token"
