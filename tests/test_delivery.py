"""Delivery: pages compressed by the application, static files fingerprinted, precompressed and
cached for a year by WhiteNoise, without the session's ``Vary: Cookie``."""

from __future__ import annotations

import gzip
import re

import brotli

from portal import CSP
from portal.core.delivery import build_static, hashed_name

ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def test_pages_are_compressed_as_the_browser_asks(client):
    plain = client.get("/connexion").get_data()
    for encoding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        response = client.get("/connexion", headers={"Accept-Encoding": encoding})
        assert response.headers["Content-Encoding"] == encoding
        assert len(response.get_data()) < len(plain) / 2
        html = decode(response.get_data()).decode()
        assert re.sub(r'content="[^"]+"|value="[^"]+"', "", html) == \
            re.sub(r'content="[^"]+"|value="[^"]+"', "", plain.decode())  # tokens differ per page
        assert {"HX-Request", "Accept-Encoding"} <= set(response.headers["Vary"].replace(" ", "").split(","))
        assert response.headers["Content-Security-Policy"] == CSP
    assert "Content-Encoding" not in client.get("/connexion").headers  # asked for nothing


def test_static_files_have_fingerprinted_urls_cached_for_a_year(client):
    assets = ASSET.findall(client.get("/").get_data(as_text=True))
    assert {a.split("/")[-1].split(".")[0] for a in assets} >= {"portal", "htmx", "favicon"}
    for url in assets:
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", url), url
        response = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Cookie" not in response.headers.get("Vary", "") and "Set-Cookie" not in response.headers
    # the CSP allows them: same origin, no inline code
    assert "script-src 'self'" in CSP and "style-src 'self'" in CSP


def test_static_files_are_precompressed(client):
    url = next(u for u in ASSET.findall(client.get("/").get_data(as_text=True)) if "htmx" in u)
    original = client.get(url).get_data()
    for encoding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        response = client.get(url, headers={"Accept-Encoding": encoding})
        assert response.headers["Content-Encoding"] == encoding
        assert decode(response.get_data()) == original
        assert len(response.get_data()) < len(original) / 2


def test_unhashed_names_still_work_with_a_short_cache(client):
    response = client.get("/static/css/portal.css")
    assert response.status_code == 200 and "immutable" not in response.headers["Cache-Control"]


def test_a_changed_file_gets_a_new_name_and_the_old_one_stays(tmp_path):
    source, target = tmp_path / "static", tmp_path / "build"
    (source / "css").mkdir(parents=True)
    (source / "css" / "site.css").write_text("body{color:black}" * 100)
    first = build_static(source, target)
    assert first["css/site.css"] == hashed_name("css/site.css", (source / "css" / "site.css").read_bytes())
    assert (target / (first["css/site.css"] + ".br")).exists()
    assert (target / (first["css/site.css"] + ".gz")).exists()
    assert build_static(source, target) == first  # idempotent
    (source / "css" / "site.css").write_text("body{color:navy}" * 100)
    second = build_static(source, target)
    assert second["css/site.css"] != first["css/site.css"]
    assert (target / first["css/site.css"]).exists()  # pages cached before the deploy still load
    assert (target / "css" / "site.css").read_text().startswith("body{color:navy}")
