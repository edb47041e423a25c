"""A small HTTP client that behaves like the portal's pages in a browser: cookies, the CSRF
token from the page's meta tag, the step form's fields as htmx posts them (url-encoded)."""

from __future__ import annotations

import html
import http.client
import re
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')
BROWSER = {"Accept-Encoding": "gzip, deflate, br", "Accept": "text/html"}


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Browser:
    """One visitor: its own cookies, talking to one base address (switchable between instances)."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}
        self.token = ""

    def request(self, method: str, path: str, data: dict | list | None = None,
                headers: dict[str, str] | None = None, base: str | None = None) -> Response:
        address = urlsplit(base or self.base)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        sent = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        payload = None
        if data is not None:
            payload = urlencode(data)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=payload, headers=sent)
            answer = connection.getresponse()
            body = answer.read()
            for name, value in answer.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    cookie_value = rest.split(";", 1)[0]
                    if "Expires=Thu, 01 Jan 1970" in value or (not cookie_value and "Max-Age=0" in value):
                        self.cookies.pop(key, None)
                    else:
                        self.cookies[key] = cookie_value
            return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, body)
        finally:
            connection.close()

    def get(self, path: str, **kwargs) -> Response:
        response = self.request("GET", path, **kwargs)
        found = TOKEN.search(response.text) if response.status == 200 else None
        if found:
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict | list, **kwargs) -> Response:
        return self.request("POST", path, data={"csrf_token": self.token, **dict(data)}
                            if isinstance(data, dict) else data, **kwargs)

    def login(self, login: str, password: str, **kwargs) -> Response:
        self.get("/connexion", **kwargs)
        return self.post("/connexion", {"login": login, "password": password}, **kwargs)


class StepForm(HTMLParser):
    """The step form's fields as a browser's FormData sees them (files left out)."""

    def __init__(self, page: str):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._inside = False
        self._select: str | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "step-form":
            self._inside = True
        if not self._inside or "name" not in a or a.get("disabled") is not None:
            if tag == "option" and self._select and "selected" in a:
                self.fields.append((self._select, a.get("value", "")))
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("file", "submit", "button") or (kind in ("radio", "checkbox") and "checked" not in a):
                return
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "textarea":
            self.fields.append((a["name"], ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False
        if tag == "select":
            self._select = None


def oob_value(fragment: str, element_id: str) -> str | None:
    """The value of an out-of-band hidden input (``draft-base``, ``draft-version``…)."""
    found = re.search(rf'<input[^>]*id="{element_id}"[^>]*value="([^"]*)"', fragment)
    return html.unescape(found.group(1)) if found else None


class Autosaver:
    """Types into one draft's step the way the page's htmx does: each save carries the base and
    the shown fields the previous answer gave."""

    def __init__(self, browser: Browser, draft: int, step: str = "identite"):
        self.browser, self.draft, self.step = browser, draft, step
        page = browser.get(f"/brouillons/{draft}/etapes/{step}")
        assert page.status == 200, page.status
        self.fields = dict(StepForm(page.text).fields)
        self.fields.pop("action", None)

    def save(self, name: str, value: str, base: str | None = None) -> Response:
        self.fields[name] = value
        headers = {**BROWSER, "HX-Request": "true", "HX-Target": "save-status", "HX-Trigger": "step-form",
                   "X-CSRFToken": self.browser.token}
        response = self.browser.request("POST", f"/brouillons/{self.draft}/enregistrer",
                                        data=self.fields, headers=headers, base=base)
        if response.status == 200:
            fragment = decoded(response)
            for field, element in (("_base", "draft-base"), ("version", "draft-version"),
                                   ("_shown", "shown-fields")):
                found = oob_value(fragment, element)
                if found is not None:
                    self.fields[field] = found
        return response


def decoded(response: Response) -> str:
    encoding = response.headers.get("content-encoding")
    if encoding == "br":
        import brotli

        return brotli.decompress(response.body).decode()
    if encoding == "gzip":
        import gzip

        return gzip.decompress(response.body).decode()
    return response.text


def start_draft(browser: Browser, procedure_id: str, base: str | None = None) -> int:
    """"Commencer", then "Pour moi" when the procedure asks for whom: the new draft's id."""
    browser.get(f"/demarches/{procedure_id}", base=base)
    started = browser.post(f"/demarches/{procedure_id}/commencer", {}, base=base)
    if started.headers.get("location", "").endswith("/pour-qui"):
        browser.get(f"/demarches/{procedure_id}/pour-qui", base=base)
        started = browser.post(f"/demarches/{procedure_id}/pour-qui", {"beneficiaire": "moi"}, base=base)
    found = re.search(r"/brouillons/(\d+)/", started.headers.get("location", ""))
    if found is None:
        raise AssertionError(f"« Commencer » n'a pas ouvert de brouillon : {started.status}")
    return int(found.group(1))
