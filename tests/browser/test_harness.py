"""The browser harness itself: axe really fails on a broken page, with or without JavaScript."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible

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
