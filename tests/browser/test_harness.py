"""The browser harness itself: axe really fails on a broken page, with or without JavaScript."""

from __future__ import annotations

import pytest

from tests.browser.conftest import STRUCTURE_SCRIPT, assert_accessible

pytestmark = pytest.mark.browser

BROKEN = ("<!doctype html><html><head><title>x</title></head><body>"
          "<main><h1>Cassé</h1><input id=sans-label></main></body></html>")


def test_axe_reports_violations_readably(ui):
    ui.page.route(ui.live.url + "/casse", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=BROKEN))
    ui.page.goto(ui.live.url + "/casse")
    with pytest.raises(AssertionError) as failure:
        assert_accessible(ui.page)
    report = str(failure.value)
    assert "html-has-lang" in report and "label" in report and "#sans-label" in report


def test_structure_checks_catch_what_axe_no_longer_does(ui):
    twice = ('<!doctype html><html lang="fr"><head><title>x</title></head><body><main>'
             '<h1>Un</h1><h1>Deux</h1><p id="a">a</p><p id="a">b</p>'
             '<label for="absent">Nom</label></main></body></html>')
    ui.page.route(ui.live.url + "/double", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=twice))
    ui.page.goto(ui.live.url + "/double")
    assert ui.page.evaluate(STRUCTURE_SCRIPT) == [
        "id en double : #a", "2 titres h1 (un seul attendu)", "label for=absent sans champ"]
