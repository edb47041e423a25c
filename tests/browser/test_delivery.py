"""What the browser receives: pages and assets compressed, assets under fingerprinted names
loaded under the CSP, and autosave posting url-encoded answers (not a multipart body)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Ui
from tests.browser.demarches_ui import sign_in, start

pytestmark = pytest.mark.browser


def test_assets_are_fingerprinted_compressed_and_allowed_by_the_csp(ui_js: Ui):
    ui = ui_js
    problems: list[str] = []
    ui.page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    assets = {}
    ui.page.on("response", lambda r: assets.__setitem__(r.url, r) if "/static/" in r.url else None)
    page = ui.visit("/")
    assert page.headers.get("content-encoding") in ("br", "gzip")
    assert {"htmx", "portal"} <= {url.rsplit("/", 1)[1].split(".")[0] for url in assets}
    for url, response in assets.items():
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", url), url
        assert response.status == 200
        assert "immutable" in response.headers["cache-control"]
    assert ui.page.evaluate("typeof htmx") == "object"  # the hashed htmx ran under the CSP
    assert problems == []


def test_autosave_posts_url_encoded_answers(ui_js: Ui):
    ui = ui_js
    sign_in(ui)
    draft = start(ui, "cmi")
    ui.visit(draft + "/etapes/identite")
    with ui.page.expect_request(lambda r: r.url.endswith("/enregistrer")) as caught:
        ui.page.locator("#f-nom").fill("Durand")
    request = caught.value
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert "nom=Durand" in request.post_data and "_step=identite" in request.post_data
    expect(ui.page.locator("#save-status")).to_contain_text("Brouillon enregistré à", timeout=15_000)
