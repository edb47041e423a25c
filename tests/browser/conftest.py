"""Browser test layer: Debian's Chromium driven by Playwright against a live Guichet.

One browser per test session, one live server (werkzeug, threaded, SQLite) per session with
its data wiped before each test, a fresh browser context per test, JavaScript on and off.
Every page a test visits goes through ``Ui.visit``/``Ui.submit``/``Ui.follow``, which run
axe-core (WCAG 2.1 AA + best practices) and fail with a readable list of violations.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from werkzeug.serving import make_server

from portal import db as database
from portal.db import Base
from tests.conftest import PASSWORD, deliver, emails_to, free_port, make_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
MISSING_BROWSER = "Chromium (/usr/bin/chromium) absent : tests navigateur ignorés — apt-get install chromium"
AXE_OPTIONS = {
    "runOnly": {"type": "tag",
                "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations"],
}

__all__ = ["PASSWORD", "Ui", "assert_accessible", "assert_reflows"]


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session (starting one costs about two seconds)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(MISSING_BROWSER, pytrace=False)
        pytest.skip(MISSING_BROWSER)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# --- axe-core ------------------------------------------------------------------------------


class Auditor:
    """Runs axe on pages whose own context has JavaScript off.

    axe.run needs timers, which never fire when the page's scripts are disabled, so the
    serialised DOM of such a page is served again, at the same address, to a page of a
    JavaScript-enabled context whose own scripts (htmx, portal.js) are blocked: axe sees
    exactly what a person without JavaScript sees, with the portal's stylesheets (one limit:
    ``<noscript>`` content, which the portal does not use, would stay hidden from axe).
    """

    def __init__(self, browser):
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self._pending: tuple[str, str] | None = None
        self.context.route("**/*", self._serve)

    def _serve(self, route):
        request = route.request
        if request.resource_type == "script":
            return route.abort()
        if self._pending and request.resource_type == "document" and request.url == self._pending[0]:
            return route.fulfill(status=200, content_type="text/html; charset=utf-8",
                                 body=self._pending[1])
        return route.continue_()

    def audit(self, page) -> list[dict]:
        url = page.url.split("#", 1)[0]
        self._pending = (url, page.content())
        try:
            self.page.goto(url)
            return run_axe(self.page)
        finally:
            self._pending = None


def run_axe(page) -> list[dict]:
    # page.evaluate goes through the DevTools protocol: the portal's CSP (script-src 'self')
    # does not block it, so no context needs bypass_csp.
    from axe_playwright_python.sync_playwright import Axe

    return Axe().run(page, options=AXE_OPTIONS).response["violations"]


def format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"axe : {len(violations)} violation(s) sur {url}"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}) : {violation['help']}")
        for node in violation["nodes"][:5]:
            target = " ".join(str(t) for t in node["target"])
            message = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"    {target} — {message}")
    return "\n".join(lines)


# What axe-core 4.x no longer checks (duplicate-id was retired) or checks only loosely.
STRUCTURE_SCRIPT = """(() => {
  const problems = [], seen = new Set();
  for (const el of document.querySelectorAll('[id]')) {
    if (seen.has(el.id)) problems.push('id en double : #' + el.id);
    seen.add(el.id);
  }
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) problems.push(h1 + ' titres h1 (un seul attendu)');
  if (document.querySelectorAll('main').length !== 1) problems.push('pas exactement un <main>');
  if (!document.documentElement.lang) problems.push('<html> sans lang');
  for (const el of document.querySelectorAll('[aria-describedby], [aria-labelledby]')) {
    const ids = ((el.getAttribute('aria-describedby') || '') + ' ' +
                 (el.getAttribute('aria-labelledby') || '')).split(/\\s+/).filter(Boolean);
    for (const id of ids) if (!document.getElementById(id)) problems.push('référence ARIA vers #' + id + ' absent');
  }
  for (const label of document.querySelectorAll('label[for]')) {
    if (!document.getElementById(label.htmlFor)) problems.push('label for=' + label.htmlFor + ' sans champ');
  }
  return problems;
})()"""

_auditors: dict[int, Auditor] = {}


def assert_accessible(page) -> None:
    """Zero axe violations (WCAG 2.1 A/AA and best practices) on the page as it is now."""
    context = page.context
    if getattr(context, "guichet_javascript", True):
        violations = run_axe(page)
    else:
        auditor = _auditors.get(id(context.browser))
        if auditor is None:
            auditor = _auditors[id(context.browser)] = Auditor(context.browser)
        violations = auditor.audit(page)
    assert not violations, format_violations(page.url, violations)
    problems = page.evaluate(STRUCTURE_SCRIPT)  # synchronous: runs with JavaScript off too
    assert not problems, f"{page.url} : " + " ; ".join(problems)


def assert_reflows(page, width: int = 320) -> None:
    """No horizontal scrolling at ``width`` CSS pixels (WCAG 1.4.10 Reflow)."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} défile horizontalement à {width} px ({scroll_width} px)"


# --- the live server -----------------------------------------------------------------------


@dataclass
class LiveServer:
    app: object
    url: str
    engine: object

    def reset(self) -> None:
        """Clean data for the next test; the schema stays."""
        with self.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(scope="session")
def live_server_session(tmp_path_factory, smtp_server) -> Iterator[LiveServer]:
    _box, smtp_port = smtp_server
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = make_app("sqlite", tmp_path_factory.mktemp("live"), smtp_port, PORTAL_BASE_URL=url)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise here
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield LiveServer(app, url, app.extensions["sqlalchemy_engine"])
    server.shutdown()
    thread.join(5)
    app.extensions["sqlalchemy_engine"].dispose()


@pytest.fixture
def live_server(live_server_session, mailbox) -> Iterator[LiveServer]:
    # portal.db.session is one scoped_session for the process: other tests' apps rebind it.
    database.session.remove()
    database.session.configure(bind=live_server_session.engine)
    live_server_session.reset()
    yield live_server_session
    database.session.remove()


# --- emails --------------------------------------------------------------------------------


def latest_link(live: LiveServer, mailbox, address: str) -> str:
    """Deliver the outbox, then the first portal link of the latest email sent to ``address``."""
    deliver(live.app)
    messages = emails_to(mailbox, address)
    assert messages, f"aucun email pour {address}"
    text = messages[-1].get_body(preferencelist=("plain",)).get_content()
    match = re.search(re.escape(live.url) + r"/\S+", text)
    assert match, text
    return match.group(0)


def latest_email_text(live: LiveServer, mailbox, address: str) -> str:
    deliver(live.app)
    messages = emails_to(mailbox, address)
    assert messages, f"aucun email pour {address}"
    return messages[-1].get_body(preferencelist=("plain",)).get_content()


# --- pages ---------------------------------------------------------------------------------


@dataclass
class Ui:
    """A person in the browser. Every page reached through it is checked with axe."""

    page: object
    live: LiveServer
    mailbox: object
    javascript: bool
    visited: list[str] = field(default_factory=list)

    def check(self) -> None:
        self.page.wait_for_load_state("load")
        self.visited.append(self.page.url)
        assert_accessible(self.page)

    def visit(self, path: str):
        response = self.page.goto(path if path.startswith("http") else self.live.url + path)
        self.check()
        return response

    def follow(self, link_name: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("link", name=link_name, exact=True).first.click()
        self.check()

    def submit(self, button_name: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button_name, exact=True).click()
        self.check()

    def fill(self, field_id: str, value: str) -> None:
        self.page.locator(f"#{field_id}").fill(value)

    def text(self) -> str:
        return self.page.locator("main").inner_text()

    def link_for(self, address: str) -> str:
        return latest_link(self.live, self.mailbox, address)

    def email_text(self, address: str) -> str:
        return latest_email_text(self.live, self.mailbox, address)

    def login(self, login: str, password: str = PASSWORD) -> None:
        self.visit("/connexion")
        self.fill("login", login)
        self.fill("password", password)
        self.submit("Se connecter")

    def logout(self) -> None:
        self.submit("Se déconnecter")


def _context(browser, javascript: bool, **options):
    context = browser.new_context(java_script_enabled=javascript, locale="fr-FR", **options)
    context.guichet_javascript = javascript  # read by assert_accessible
    context.set_default_timeout(10_000)
    # Any server error during a test fails it, htmx requests included.
    context.server_errors = []
    context.on("response", lambda r: r.status >= 500 and context.server_errors.append(
        f"{r.status} {r.request.method} {r.url}"))
    return context


def _close(context) -> None:
    errors = list(context.server_errors)
    context.close()
    assert not errors, "erreurs serveur : " + ", ".join(errors)


@pytest.fixture(params=["js", "nojs"], ids=["js-on", "js-off"])
def javascript(request) -> bool:
    return request.param == "js"


def _ui(browser, live_server, mailbox, javascript: bool, **options) -> Iterator[Ui]:
    context = _context(browser, javascript, **options)
    yield Ui(context.new_page(), live_server, mailbox, javascript)
    _close(context)


@pytest.fixture
def ui(browser, live_server, mailbox, javascript) -> Iterator[Ui]:
    """Runs each test twice: JavaScript on, then off."""
    yield from _ui(browser, live_server, mailbox, javascript)


@pytest.fixture
def ui_js(browser, live_server, mailbox) -> Iterator[Ui]:
    """For what only exists with JavaScript: focus moves, htmx checks."""
    yield from _ui(browser, live_server, mailbox, True)


@pytest.fixture
def narrow_ui(browser, live_server, mailbox) -> Iterator[Ui]:
    """320 CSS pixels wide, for the reflow test."""
    yield from _ui(browser, live_server, mailbox, True, viewport={"width": 320, "height": 640})


def create_live_user(live: LiveServer, email: str = "camille@example.org", password: str = PASSWORD,
                     **fields):
    """An active account in the live server's database (committed)."""
    from portal.accounts.models import User
    from portal.accounts.passwords import hash_password
    from portal.accounts.services import new_identifier

    with live.app.app_context():
        user = User(identifier=new_identifier(), email=email, password_hash=hash_password(password),
                    status="active", role="citizen", **fields)
        database.session.add(user)
        database.session.commit()
        return user
