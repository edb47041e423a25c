"""Autosave throughput beside a bare Flask + SQLAlchemy baseline, both served by gunicorn.

Each app runs in its own gunicorn (one sync worker, as many per core as the README deploys) on
the same database. Runs are interleaved (baseline, portal, portal, baseline…) so a busy machine
slows both alike; each run posts ``--saves`` saves one after the other, like one person typing.
Printed: saves per second and server CPU per save for both, their ratio per round and the
median ratio (goal: portal >= 0.8 x baseline), and the SQL statements of one autosave.
Figures only: nothing is asserted (CI prints them).

    python benchmarks/autosave.py [--database-url postgresql://…/scratch] [--rounds 5] [--saves 150]

Without --database-url (or BENCH_DATABASE_URL) a throw-away SQLite file is used. A PostgreSQL
database given here is emptied first: give a scratch one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import servers  # noqa: E402
from browser import Autosaver, Browser, decoded, start_draft  # noqa: E402

PASSWORD = "Correct-cheval9!"
EMAIL = "autosave@bench.example"


def prepare(database_url: str) -> None:
    """An empty schema from the migrations, one person, and the baseline's table and row."""
    from sqlalchemy import text

    from portal import create_app
    from portal import db as database
    from portal.accounts.models import User
    from portal.accounts.passwords import hash_password
    from portal.accounts.services import new_identifier
    from portal.cli import upgrade_database

    os.environ.update(servers.portal_env(database_url))
    app = create_app({"DEV_EMAIL_ECHO": False})
    engine = app.extensions["sqlalchemy_engine"]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    with app.app_context():
        upgrade_database()
        database.session.add(User(identifier=new_identifier(), email=EMAIL, password_hash=hash_password(PASSWORD),
                                  status="active", nom="Martin", prenom="Camille"))
        database.session.commit()
    import baseline_app

    baseline_engine = baseline_app.engine_for(database_url)
    baseline_app.Base.metadata.create_all(baseline_engine)
    with baseline_engine.begin() as conn:
        conn.execute(baseline_app.BaselineDraft.__table__.insert().values(id=1, answers={}, version=1))
    baseline_engine.dispose()
    engine.dispose()


def statements_per_autosave(database_url: str, draft: int, saver: Autosaver) -> int:
    """The same autosave run in-process, counting the SQL statements it sends."""
    from sqlalchemy import event

    from portal import create_app

    app = create_app({"DEV_EMAIL_ECHO": False, "RATELIMIT_ENABLED": False})
    engine = app.extensions["sqlalchemy_engine"]
    count = {"n": 0}
    event.listen(engine, "before_cursor_execute", lambda *a, **k: count.__setitem__("n", count["n"] + 1))
    client = app.test_client()
    for name, value in saver.browser.cookies.items():
        client.set_cookie(name, value, domain="localhost")
    fields = dict(saver.fields, nom="Comptage")
    response = client.post(f"/brouillons/{draft}/enregistrer", data=fields,
                           headers={"HX-Request": "true", "X-CSRFToken": saver.browser.token})
    assert response.status_code == 200 and b'data-save-state="saved"' in response.data, response.data[:300]
    engine.dispose()
    return count["n"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--saves", type=int, default=150)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="guichet-autosave-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    prepare(database_url)

    env = servers.portal_env(database_url, UPLOAD_FOLDER=str(workdir / "uploads"),
                             STATIC_BUILD_DIR=str(workdir / "static"))
    portal_port, baseline_port = servers.free_port(), servers.free_port()
    portal_log, baseline_log = workdir / "portal.log", workdir / "baseline.log"
    portal = servers.gunicorn("wsgi:app", portal_port, env, portal_log)
    baseline = servers.gunicorn("baseline_app:app", baseline_port, env, baseline_log, chdir=HERE)
    try:
        servers.wait_until_up(f"http://127.0.0.1:{portal_port}/", portal, portal_log)
        servers.wait_until_up(f"http://127.0.0.1:{baseline_port}/", baseline, baseline_log)
        browser = Browser(f"http://127.0.0.1:{portal_port}")
        assert browser.login(EMAIL, PASSWORD).status == 303
        draft = start_draft(browser, "cmi")
        saver = Autosaver(browser, draft)
        baseline_client = Browser(f"http://127.0.0.1:{baseline_port}")
        counter = {"n": 0}

        def portal_save() -> None:
            counter["n"] += 1
            response = saver.save("nom", f"Martin {counter['n']}")
            assert response.status == 200 and 'data-save-state="saved"' in decoded(response), response.status

        def baseline_save() -> None:
            counter["n"] += 1
            response = baseline_client.request("POST", "/save/1", data={"nom": f"Martin {counter['n']}"})
            assert response.status == 200, response.status

        def run(save, process) -> tuple[float, float]:
            cpu = servers.cpu_seconds(process)
            start = time.perf_counter()
            for _ in range(args.saves):
                save()
            elapsed = time.perf_counter() - start
            return args.saves / elapsed, (servers.cpu_seconds(process) - cpu) * 1000 / args.saves

        for _ in range(20):  # warm-up: imports, template compilation, connection pools
            portal_save()
            baseline_save()
        statements = statements_per_autosave(database_url, draft, saver)
        saver.fields.update(Autosaver(browser, draft).fields)  # the base after the counted save
        print(f"Autosave vs baseline — {database_url.split('@')[-1]} — {args.rounds} rounds of "
              f"{args.saves} saves, gunicorn 1 sync worker each, interleaved")
        print(f"{'round':<7}{'baseline/s':>12}{'portal/s':>10}{'ratio':>8}{'CPU ms base':>13}{'CPU ms portal':>15}")
        ratios, cpu_base, cpu_portal = [], [], []
        for index in range(args.rounds):
            order = [(baseline_save, baseline), (portal_save, portal)]
            if index % 2:
                order.reverse()
            results = {id(process): run(save, process) for save, process in order}
            (b_rate, b_cpu), (p_rate, p_cpu) = results[id(baseline)], results[id(portal)]
            ratios.append(p_rate / b_rate)
            cpu_base.append(b_cpu)
            cpu_portal.append(p_cpu)
            print(f"{index + 1:<7}{b_rate:>12.0f}{p_rate:>10.0f}{p_rate / b_rate:>8.2f}{b_cpu:>13.1f}{p_cpu:>15.1f}")
        print(f"median ratio (portal / baseline throughput): {statistics.median(ratios):.2f}   goal >= 0.80")
        print(f"server CPU per save: baseline {statistics.median(cpu_base):.1f} ms, "
              f"portal {statistics.median(cpu_portal):.1f} ms")
        print(f"SQL statements per autosave: {statements}")
    finally:
        servers.stop(portal, baseline)


if __name__ == "__main__":
    main()
