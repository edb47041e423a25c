"""Scale: the same measures at 1,000 requests and at 1,000,000 (100,000 people), and their ratio.

Each size is loaded into its own PostgreSQL schema (made by the migrations) with INSERT …
SELECT over generate_series: people, requests with their status history, drafts, notifications
and sent emails. One measured person has the same requests and drafts at every size, so only
the size of the tables changes. Printed per measure: median time at both sizes and the ratio
(goal: every ratio within 1.5). Figures only; CI does not run it (the large load takes minutes).

    python benchmarks/scale.py --database-url postgresql://postgres@127.0.0.1:5432/scratch
        [--people 100000 --requests 1000000] [--small-requests 1000] [--runs 15]

The measures of both sizes take turns (interleaved runs). The schemas ``scale_small`` and
``scale_large`` are made in the database given, then dropped: give a scratch database.
The back office (agents' queues) does not exist yet: see ``BACK_OFFICE`` below to add its
measures when it lands.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import servers  # noqa: E402
from browser import StepForm, oob_value  # noqa: E402

PASSWORD = "Correct-cheval9!"
MEASURED = "mesure@scale.example"
REQUESTS_PER_PERSON = 10

# The back office's queues (requests to instruct, by status and age) are to be measured here
# when the back office exists: add ("name", callable(ctx) -> None) pairs; ctx has "app",
# "client" (logged in as an agent once agents can log in) and "agent_id".
BACK_OFFICE: list[tuple[str, Callable[[dict], None]]] = []


def load(app, schema: str, people: int, requests: int) -> dict:
    """A new schema, then ``people`` people sharing ``requests`` requests, with history."""
    from sqlalchemy import text

    from portal import db
    from portal.accounts.models import User
    from portal.accounts.passwords import hash_password
    from portal.cli import upgrade_database

    engine = app.extensions["sqlalchemy_engine"]
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
    with app.app_context():
        upgrade_database()
        password_hash = hash_password(PASSWORD)
    params = {"people": people, "requests": requests, "hash": password_hash}
    statements = [
        # people, and one agent who changes statuses
        """INSERT INTO users (id, identifier, email, password_hash, status, role, nom, prenom, created_at)
           SELECT g, '3' || lpad(g::text, 14, '0'), 'personne' || g || '@scale.example', :hash,
                  'active', CASE WHEN g = 1 THEN 'agent' ELSE 'citizen' END, 'Nom' || g, 'Camille',
                  now() - (g % 900) * interval '1 day'
           FROM generate_series(1, :people) g""",
        # requests: statuses in every state, deadlines in the future (nothing due)
        """INSERT INTO dossiers (id, user_id, procedure_id, answers, field_versions, version, current_step,
                                created_at, updated_at, reference, submitted_at, status, status_changed_at,
                                deadline_at, decided_at, status_data)
           SELECT g, 2 + (g - 1) % (:people - 1), 'cmi', '{"nom": "Martin", "prenom": "Camille"}',
                  '{"nom": 1, "prenom": 1}', 2, 'identite', s - interval '2 days', s,
                  'SCL-' || lpad(g::text, 9, '0'), s,
                  (ARRAY['deposee', 'en_instruction', 'accordee'])[1 + g % 3],
                  s + interval '3 days',
                  CASE WHEN g % 3 = 2 THEN NULL ELSE now() + (1 + g % 100) * interval '1 day' END,
                  CASE WHEN g % 3 = 2 THEN s + interval '9 days' END,
                  CASE WHEN g % 3 = 2 THEN '{"mentions_accordees": ["stationnement"], "duree": "permanente"}'::json END
           FROM (SELECT g, now() - (10 + g % 700) * interval '1 day' AS s
                 FROM generate_series(1, :requests) g) t""",
        # their history: deposee, then the agent's changes
        """INSERT INTO dossier_events (dossier_id, status, previous_status, by_user_id, by_label, note, created_at)
           SELECT d.id, e.status, e.previous, CASE WHEN e.n > 1 THEN 1 END,
                  CASE WHEN e.n > 1 THEN 'Agent' ELSE 'Système' END, '', d.submitted_at + e.n * interval '1 day'
           FROM dossiers d
           JOIN LATERAL (VALUES (1, 'deposee', NULL), (2, 'en_instruction', 'deposee'),
                                (3, 'accordee', 'en_instruction')) AS e(n, status, previous)
             ON e.n <= 1 + (d.id % 3)""",
        # one recent draft per person (none old enough to purge)
        """INSERT INTO dossiers (id, user_id, procedure_id, answers, field_versions, version, current_step,
                                created_at, updated_at)
           SELECT :requests + g, g, 'cmi', '{"nom": "Martin"}', '{"nom": 1}', 2, 'identite',
                  now() - (g % 60) * interval '1 day', now() - (g % 60) * interval '1 day'
           FROM generate_series(2, :people) g""",
        """INSERT INTO notifications (user_id, kind, subject, message, link, created_at, read_at)
           SELECT user_id, 'status', 'Votre demande ' || reference, 'Déposée.', '/demandes/' || reference,
                  submitted_at, submitted_at + interval '1 day'
           FROM dossiers WHERE reference IS NOT NULL""",
        """INSERT INTO outbox_emails (recipient, subject, body_text, body_html, created_at, attempts,
                                     next_attempt_at, sent_at, message_id)
           SELECT 'personne' || g || '@scale.example', 'Votre demande', 'Texte', '<p>Texte</p>',
                  now() - interval '1 day', 1, now() - interval '1 day', now() - interval '1 day',
                  '<scale-' || g || '@scale.example>'
           FROM generate_series(2, :people) g""",
    ]
    started = time.perf_counter()
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)
        for table in ("users", "dossiers", "dossier_events", "notifications", "outbox_emails"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT max(id) FROM {table}))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    loaded = time.perf_counter() - started
    # The measured person: the same requests and drafts at every size.
    from sample_requests import add_sample_dossiers

    with app.app_context():
        person = User(identifier="400000000000001", email=MEASURED, password_hash=password_hash,
                      status="active", nom="Mesure", prenom="Camille")
        db.session.add(person)
        db.session.commit()
        references = add_sample_dossiers(person.id, drafts=2, requests=REQUESTS_PER_PERSON)
        draft = db.session.scalar(text("SELECT id FROM dossiers WHERE user_id = :u AND submitted_at IS NULL "
                                       "ORDER BY id LIMIT 1"), {"u": person.id})
    return {"reference": references[0], "draft": draft, "seconds": loaded, "deletable": people // 2}


def plan(app, data: dict) -> list[tuple[str, Callable[[], None]]]:
    """Each measure as a call, for the person and data ``load`` made."""
    import re

    from portal import db
    from portal.accounts.models import User
    from portal.accounts.services import delete_account
    from portal.demarches.services import fire_deadlines, purge_drafts
    from portal.mail.services import deliver_due

    client = app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/connexion").get_data(as_text=True)).group(1)
    answer = client.post("/connexion", data={"csrf_token": token, "login": MEASURED, "password": PASSWORD})
    assert answer.status_code == 303, answer.status_code
    step_page = client.get(f"/brouillons/{data['draft']}/etapes/identite").get_data(as_text=True)
    fields = dict(StepForm(step_page).fields)
    fields.pop("action", None)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', step_page).group(1)
    count = {"n": 0}

    def page(url: str) -> Callable[[], None]:
        def get() -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        return get

    def autosave() -> None:
        count["n"] += 1
        fields["nom"] = f"Martin {count['n']}"
        response = client.post(f"/brouillons/{data['draft']}/enregistrer", data=fields,
                               headers={"HX-Request": "true", "X-CSRFToken": csrf})
        text = response.get_data(as_text=True)
        assert response.status_code == 200 and 'data-save-state="saved"' in text, text[:300]
        for name, element in (("_base", "draft-base"), ("version", "draft-version"), ("_shown", "shown-fields")):
            found = oob_value(text, element)
            if found is not None:
                fields[name] = found

    def in_context(work: Callable[[], object], rollback: bool = False) -> Callable[[], None]:
        def run() -> None:
            with app.app_context():
                work()
                if rollback:
                    db.session.rollback()
                db.session.remove()
        return run

    def delete_someone() -> None:
        user = db.session.get(User, data["deletable"])
        delete_account(user)
        db.session.flush()  # every cascade and SET NULL runs; rolled back so it can run again

    calls: list[tuple[str, Callable[[], None]]] = [
        ("Mes démarches", page("/mes-demarches")),
        ("Page d'une demande", page(f"/demandes/{data['reference']}")),
        ("Mon compte", page("/compte")),
        ("Mes notifications", page("/notifications")),
        ("Enregistrement automatique", autosave),
        ("Worker : purge des brouillons", in_context(purge_drafts)),
        ("Worker : échéances", in_context(fire_deadlines)),
        ("Worker : courriels à envoyer", in_context(deliver_due)),
        ("Suppression d'un compte", in_context(delete_someone, rollback=True)),
    ]
    calls += [(name, lambda work=work: work({"app": app, "client": client})) for name, work in BACK_OFFICE]
    engine = app.extensions["sqlalchemy_engine"]

    def bound(call: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:  # the portal's session is one per process: point it at this size
            db.session.remove()
            db.session.configure(bind=engine)
            call()
        return run

    return [(name, bound(call)) for name, call in calls]


def interleaved(plans: list[list[tuple[str, Callable[[], None]]]], runs: int) -> list[dict[str, float]]:
    """Median milliseconds per measure and size, the sizes taking turns run after run, so a
    machine busy at one moment slows both alike."""
    results: list[dict[str, float]] = [{} for _ in plans]
    for index, (name, _call) in enumerate(plans[0]):
        calls = [measures[index][1] for measures in plans]
        for call in calls:
            call()  # warm-up
        times: list[list[float]] = [[] for _ in plans]
        for run_number in range(runs):
            for size in (range(len(calls)) if run_number % 2 == 0 else reversed(range(len(calls)))):
                start = time.perf_counter()
                calls[size]()
                times[size].append((time.perf_counter() - start) * 1000)
        for size, measured in enumerate(times):
            results[size][name] = statistics.median(measured)
    return results


def with_schema(database_url: str, schema: str) -> str:
    """The same database, its tables in ``schema`` (PostgreSQL's search_path)."""
    separator = "&" if "?" in database_url else "?"
    return f"{database_url}{separator}options=-csearch_path%3D{schema}"


def run(database_url: str, people: int, requests: int, small_requests: int, runs: int) -> list[tuple]:
    """Load both sizes, measure them in turns; returns [(measure, small, large, ratio)]."""
    os.environ.update(servers.portal_env(database_url))
    from sqlalchemy import text

    from portal import create_app

    sizes = [("scale_small", max(2, small_requests // REQUESTS_PER_PERSON), small_requests),
             ("scale_large", people, requests)]
    apps, plans = [], []
    for schema, size_people, size_requests in sizes:
        app = create_app({"DATABASE_URL": with_schema(database_url, schema), "DEV_EMAIL_ECHO": False,
                          "RATELIMIT_ENABLED": False, "ARGON2_PROFILE": "fast"})
        if app.extensions["sqlalchemy_engine"].dialect.name != "postgresql":
            raise SystemExit("scale.py needs PostgreSQL (--database-url postgresql://…)")
        data = load(app, schema, size_people, size_requests)
        print(f"chargé : {size_requests:,} demandes, {size_people:,} personnes en {data['seconds']:.0f} s",
              flush=True)
        apps.append(app)
        plans.append(plan(app, data))
    figures = interleaved(plans, runs)
    for app, (schema, _people, _requests) in zip(apps, sizes, strict=True):
        engine = app.extensions["sqlalchemy_engine"]
        engine.dispose()
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
    rows = [(name, figures[0][name], figures[1][name], figures[1][name] / figures[0][name])
            for name in figures[0]]
    print(f"\n{'mesure':<34}{sizes[0][2]:>12,} {sizes[1][2]:>14,}   ratio (objectif <= 1,5)")
    for name, small, large, ratio in rows:
        flag = "" if ratio <= 1.5 else "   AU-DELÀ"
        print(f"{name:<34}{small:>10.1f} ms{large:>12.1f} ms{ratio:>9.2f}{flag}")
    if not BACK_OFFICE:
        print("Back-office (files d'attente des agents) : pas encore construit, rien à mesurer "
              "(ajouter ses mesures dans BACK_OFFICE, benchmarks/scale.py).")
    print(json.dumps({"ratios": {name: round(ratio, 2) for name, _s, _l, ratio in rows}}))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"), required=False)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--small-requests", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url postgresql://… (a scratch database: it is emptied)")
    run(args.database_url, args.people, args.requests, args.small_requests, args.runs)


if __name__ == "__main__":
    main()
