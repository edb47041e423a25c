"""Measure pages against benchmarks/budgets.toml: server time, page weight, SQL queries.

``html_kb`` is the page's HTML uncompressed; ``page_kb`` is what a first visit transfers (the
page and every stylesheet and script it references, compressed as a browser asks for them).

Deterministic counts (queries, bytes) are exact; server time is a median, with budgets wide
enough for a 2-core CI machine. Exit status 1 when a budget is exceeded.
Usage: python benchmarks/pages.py [--json]
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal import create_app  # noqa: E402
from portal import db as database  # noqa: E402
from portal.cli import DEMO_PASSWORD, create_demo_accounts, upgrade_database  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from sample_requests import add_sample_dossiers  # noqa: E402

ASSET_RE = re.compile(r'(?:href|src)="(/(?:static/[^"]+|theme\.css))"')
BROWSER = {"Accept-Encoding": "gzip, deflate, br"}
TOKEN_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def measure() -> tuple[list[dict], list[str]]:
    budgets = tomllib.loads((ROOT / "benchmarks" / "budgets.toml").read_text())
    defaults = budgets["defaults"]
    workdir = Path(tempfile.mkdtemp(prefix="guichet-bench-"))
    app = create_app({"PORTAL_ENV": "development", "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}", "SECRET_KEY": "bench",
                      "DEV_EMAIL_ECHO": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade_database()
        create_demo_accounts()
        from portal.accounts.services import find_by_email

        # « Mes démarches » and a request page with a full page of drafts and requests, each
        # with its history: the statement count must not grow with them.
        references = add_sample_dossiers(find_by_email("citoyen@demo.guichet.example").id)
    engine = app.extensions["sqlalchemy_engine"]
    counter = {"n": 0}
    event.listen(engine, "before_cursor_execute", lambda *a, **k: counter.__setitem__("n", counter["n"] + 1))

    anonymous = app.test_client()
    member = app.test_client()
    token = TOKEN_RE.search(member.get("/connexion").get_data(as_text=True)).group(1)
    member.post("/connexion", data={"csrf_token": token, "login": "citoyen@demo.guichet.example",
                                    "password": DEMO_PASSWORD})
    results, failures = [], []
    for page, options in budgets["pages"].items():
        limits = {**defaults, **options}
        url = page.format(reference=references[0])
        client = member if limits.get("login") else anonymous
        timings = []
        for _ in range(int(limits["runs"])):
            counter["n"] = 0
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
            database.session.remove()
        queries = counter["n"]
        html = response.get_data()
        # What a first visit transfers: the page and its assets as the browser gets them (brotli).
        sent = len(client.get(url, headers=BROWSER).get_data())
        assets = sum(len(client.get(asset, headers=BROWSER).get_data())
                     for asset in set(ASSET_RE.findall(html.decode())))
        row = {"url": page, "status": response.status_code, "server_ms": round(statistics.median(timings), 1),
               "html_kb": round(len(html) / 1024, 1), "page_kb": round((sent + assets) / 1024, 1),
               "queries": queries}
        results.append(row)
        if response.status_code != 200:
            failures.append(f"{url}: status {response.status_code}")
        for key in ("server_ms", "html_kb", "page_kb", "queries"):
            if row[key] > limits[key]:
                failures.append(f"{url}: {key} {row[key]} > budget {limits[key]}")
    return results, failures


def main() -> int:
    results, failures = measure()
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2))
    else:
        print(f"{'page':<28}{'ms':>8}{'html kB':>9}{'page kB':>9}{'queries':>9}")
        for r in results:
            print(f"{r['url']:<28}{r['server_ms']:>8}{r['html_kb']:>9}{r['page_kb']:>9}{r['queries']:>9}")
    for failure in failures:
        print("BUDGET EXCEEDED:", failure)
    print("budgets: " + ("FAILED" if failures else "all met"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
