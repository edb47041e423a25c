"""Measure an autosave round trip and a step page render: server time and SQL queries.

Usage: .venv/bin/python scripts/bench_demarches.py [--runs 50]
Uses a throw-away SQLite database unless BENCH_DATABASE_URL is set (e.g. a PostgreSQL test base,
whose tables are created if missing).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

from portal import create_app  # noqa: E402
from portal import db as database  # noqa: E402
from portal.db import Base  # noqa: E402
from portal.models import import_all_models  # noqa: E402

PASSWORD = "Correct-cheval9!"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    run(args.runs)


def start_draft(client, token) -> int:
    """"Commencer" on the CMI, "Pour moi" when the procedure asks for whom: the new draft's id."""
    response = client.post("/demarches/cmi/commencer", data={"csrf_token": token("/demarches/cmi")})
    if response.headers["Location"].endswith("/pour-qui"):
        response = client.post("/demarches/cmi/pour-qui", data={"csrf_token": token("/demarches/cmi/pour-qui"),
                                                                 "beneficiaire": "moi"})
    found = re.search(r"/brouillons/(\d+)/", response.headers.get("Location", ""))
    if found is None:
        raise RuntimeError(f"« Commencer » n'a pas ouvert de brouillon : {response.status_code} "
                           f"{response.headers.get('Location')}")
    return int(found.group(1))


def run(runs: int, url: str | None = None) -> dict[str, dict[str, float]]:
    """Measure each request ``runs`` times, print the figures and return them by label."""
    folder = tempfile.mkdtemp(prefix="guichet-bench-")
    url = url or os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite3"
    import_all_models()
    app = create_app({"PORTAL_ENV": "development", "TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "RATELIMIT_ENABLED": False,
                      "ARGON2_PROFILE": "fast", "DEV_EMAIL_ECHO": False, "UPLOAD_FOLDER": folder})
    engine = app.extensions["sqlalchemy_engine"]
    Base.metadata.create_all(engine)
    queries = {"n": 0}
    event.listen(engine, "before_cursor_execute", lambda *a, **k: queries.__setitem__("n", queries["n"] + 1))

    from portal.accounts.models import User
    from portal.accounts.passwords import hash_password
    from portal.accounts.services import new_identifier

    email = f"bench-{int(time.time())}@example.org"
    with app.app_context():
        database.session.add(User(identifier=new_identifier(), email=email, password_hash=hash_password(PASSWORD),
                                  status="active", nom="Martin", prenom="Camille"))
        database.session.commit()
    client = app.test_client()

    def token(path: str) -> str:
        return re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)

    client.post("/connexion", data={"csrf_token": token("/connexion"), "login": email, "password": PASSWORD})
    draft = start_draft(client, token)
    step_url = f"/brouillons/{draft}/etapes/identite"
    csrf = token(step_url)

    figures: dict[str, dict[str, float]] = {}

    def measure(label: str, call) -> None:
        times, counts = [], []
        for index in range(runs):
            queries["n"] = 0
            start = time.perf_counter()
            response = call(index)
            times.append((time.perf_counter() - start) * 1000)
            counts.append(queries["n"])
            assert response.status_code == 200, response.status_code
        times.sort()
        print(f"{label:<28} médiane {statistics.median(times):6.1f} ms   p95 {times[int(len(times) * .95) - 1]:6.1f} ms"
              f"   requêtes SQL {statistics.median(counts):.0f}")
        figures[label] = {"median_ms": statistics.median(times), "queries": statistics.median(counts)}

    base = {"nom": "Martin"}

    def save(index: int):
        value = f"Martin{index}"
        response = client.post(f"/brouillons/{draft}/enregistrer", headers={"HX-Request": "true"},
                               data={"csrf_token": csrf, "_step": "identite", "nom": value,
                                     "_base": json.dumps(base), "_shown": ""})
        base["nom"] = value
        return response

    print(f"Base : {url.split('@')[-1]} — {runs} mesures")
    measure("Enregistrement automatique", save)
    measure("Affichage d'une étape", lambda index: client.get(step_url))
    measure("Récapitulatif", lambda index: client.get(f"/brouillons/{draft}/recapitulatif"))
    return figures


if __name__ == "__main__":
    main()
