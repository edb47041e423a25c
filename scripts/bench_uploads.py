"""Post the hostile uploads of issue 14 and print how long each request held the server.

Usage: .venv/bin/python scripts/bench_uploads.py [--runs 3] [--worker]
The samples: a 10 MB PDF of 100,000 empty pages, and a 115 Ko PNG declaring about 40 Mpx
(7000 x 5657). The budget: no upload holds a web worker for more than a second; the heavy
checks run in the worker, which ``--worker`` also times (its pass over the pending files).
Uses a throw-away SQLite database unless BENCH_DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal import db as database  # noqa: E402
from portal.db import Base  # noqa: E402
from portal.models import import_all_models  # noqa: E402
from tests.hostile_samples import many_pages_pdf, png_declaring  # noqa: E402

os.environ.setdefault("PORTAL_ENV", "development")  # a benchmark, never a production start

PASSWORD = "Correct-cheval9!"
BUDGET_SECONDS = 1.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help="also time the worker's check")
    args = parser.parse_args()
    run(args.runs, args.worker)


def run(runs: int, worker: bool = False) -> dict[str, float]:
    folder = tempfile.mkdtemp(prefix="guichet-bench-uploads-")
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite3"
    import_all_models()
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "RATELIMIT_ENABLED": False,
                      "ARGON2_PROFILE": "fast", "DEV_EMAIL_ECHO": False, "UPLOAD_FOLDER": folder,
                      "UPLOAD_MAX_PENDING": 1000, "WALLET_QUOTA_BYTES": 10 * 1024 ** 3})
    Base.metadata.create_all(app.extensions["sqlalchemy_engine"])

    from portal.accounts.models import User
    from portal.accounts.passwords import hash_password
    from portal.accounts.services import new_identifier

    email = f"bench-uploads-{int(time.time())}@example.org"
    with app.app_context():
        database.session.add(User(identifier=new_identifier(), email=email, password_hash=hash_password(PASSWORD),
                                  status="active", nom="Martin", prenom="Camille"))
        database.session.commit()
    client = app.test_client()

    def token(path: str) -> str:
        return re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)

    client.post("/connexion", data={"csrf_token": token("/connexion"), "login": email, "password": PASSWORD})
    samples = {
        "PDF de 100 000 pages vides": ("pages.pdf", many_pages_pdf(100_000)),
        "PNG déclarant 39,6 Mpx": ("bombe.png", png_declaring(7000, 5657)),
    }
    results: dict[str, float] = {}
    print(f"Téléversements hostiles (budget : {BUDGET_SECONDS:.0f} s par requête, {runs} essais) :")
    for label, (name, data) in samples.items():
        timings, answers = [], set()
        for _ in range(runs):
            csrf = token("/porte-documents/ajouter")
            started = time.perf_counter()
            response = client.post("/porte-documents/ajouter", data={
                "csrf_token": csrf, "file": (io.BytesIO(data), name), "kind": "autre", "title": label,
                "person": "moi", "issued_on": "", "valid_until": ""}, content_type="multipart/form-data")
            timings.append(time.perf_counter() - started)
            answers.add(response.status_code)
        worst = max(timings)
        results[label] = worst
        verdict = "OK" if worst <= BUDGET_SECONDS else "TROP LENT"
        print(f"  {label} ({len(data) / 1024 / 1024:.1f} Mo) : médiane {statistics.median(timings) * 1000:.0f} ms, "
              f"pire {worst * 1000:.0f} ms, réponse {sorted(answers)} — {verdict}")
    if worker:
        from portal.files.checks import check_pending

        with app.app_context():
            started = time.perf_counter()
            counts = check_pending(limit=1000)
            print(f"  Vérification par le worker : {time.perf_counter() - started:.1f} s pour {counts}")
    return results


if __name__ == "__main__":
    main()
