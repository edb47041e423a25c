"""Measure the free-slot search of one lieu over its booking window (three weeks) against the
budget in benchmarks/budgets.toml ([appointments.free_slots]).

The database holds 10 lieux with 4 guichets each (40), open Monday to Saturday, and 50,000
booked appointments: half of the next three weeks is taken, the rest are past appointments
kept until the purge. Time is the median server time of ``services.free_slots`` (loading the
rules and bookings, then computing), in-process; SQL statements are counted exactly.

    python benchmarks/appointments_slots.py [--runs 15] [--bookings 50000]

BENCH_DATABASE_URL picks the database (a temporary SQLite file by default; a PostgreSQL
database given here is emptied first).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import tomllib
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

os.environ.setdefault("PORTAL_ENV", "development")  # a benchmark, never a production start

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LIEUX, GUICHETS_PER_LIEU = 10, 4


def build(app, bookings: int) -> tuple[int, int]:
    from sqlalchemy import insert

    from portal import db
    from portal.appointments.models import Appointment, Guichet, Lieu, Motif, OpeningHours
    from portal.appointments.slots import PARIS, SLOT_UNIT_MINUTES
    from portal.db import utcnow

    with app.app_context():
        lieux = []
        for index in range(LIEUX):
            lieu = Lieu(name=f"Mairie {index + 1}", address=f"{index + 1} place de la Mairie")
            lieu.guichets = [Guichet(name=f"Guichet {g + 1}") for g in range(GUICHETS_PER_LIEU)]
            lieu.opening_hours = [OpeningHours(weekday=d, start=clock(8, 30), end=clock(12)) for d in range(6)] + [
                OpeningHours(weekday=d, start=clock(13, 30), end=clock(17, 30)) for d in range(5)]
            lieux.append(lieu)
        motif = Motif(kind="passeport", name="Passeport", minutes_per_person=15, min_delay_hours=0,
                      max_delay_days=21, lieux=lieux)
        db.session.add_all([*lieux, motif])
        db.session.commit()
        guichets = [(lieu.id, g.id) for lieu in lieux for g in lieu.guichets]
        rng = random.Random(2026)
        today = utcnow().astimezone(PARIS).date()
        rows, seen = [], set()
        future = bookings // 2 if bookings < 40000 else min(bookings // 2, 11000)  # about half the window
        while len(rows) < bookings:
            is_future = len(rows) < future
            day = today + timedelta(days=rng.randrange(1, 22) if is_future else -rng.randrange(1, 365))
            lieu_id, guichet_id = rng.choice(guichets)
            minute = rng.randrange(0, 14) * 15
            start = datetime.combine(day, clock(8, 30), PARIS) + timedelta(minutes=minute)
            if (guichet_id, start) in seen:
                continue
            seen.add((guichet_id, start))
            rows.append({"user_id": None, "motif_id": motif.id, "lieu_id": lieu_id, "guichet_id": guichet_id,
                         "starts_at": start, "ends_at": start + timedelta(minutes=3 * SLOT_UNIT_MINUTES),
                         "status": "booked", "idempotency_key": f"bench-{len(rows)}",
                         "contact_email": "bench@example.org", "cancel_message": ""})
        for chunk in range(0, len(rows), 5000):
            db.session.execute(insert(Appointment), rows[chunk:chunk + 5000])
        db.session.commit()
        return motif.id, lieux[0].id


def measure(app, motif_id: int, lieu_id: int, runs: int) -> tuple[list[float], int, int]:
    from sqlalchemy import event

    from portal import db
    from portal.appointments import services
    from portal.appointments.models import Lieu

    engine = app.extensions["sqlalchemy_engine"]
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(1))
    timings, found = [], 0
    for _ in range(runs):
        with app.app_context():
            statements.clear()
            started = time.perf_counter()
            motif = services.get_motif(motif_id)
            lieu = db.session.get(Lieu, lieu_id)
            slots = services.free_slots(motif, lieu, 2)  # a family of two: 30 minutes
            timings.append((time.perf_counter() - started) * 1000)
            found = len(slots)
            db.session.remove()
    return timings, len(statements), found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--bookings", type=int, default=50000)
    args = parser.parse_args()
    from portal import create_app
    from portal.db import Base
    from portal.models import import_all_models

    import_all_models()
    url = os.environ.get("BENCH_DATABASE_URL")
    folder = tempfile.mkdtemp(prefix="guichet-bench-")
    app = create_app({"DATABASE_URL": url or f"sqlite:///{folder}/bench.sqlite3", "SECRET_KEY": "bench",
                      "TESTING": True, "UPLOAD_FOLDER": folder})
    engine = app.extensions["sqlalchemy_engine"]
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    started = time.perf_counter()
    motif_id, lieu_id = build(app, args.bookings)
    print(f"Données : {LIEUX} lieux, {LIEUX * GUICHETS_PER_LIEU} guichets, {args.bookings} rendez-vous "
          f"({time.perf_counter() - started:.1f} s)")
    timings, statements, found = measure(app, motif_id, lieu_id, args.runs)
    median = statistics.median(timings)
    budget = tomllib.loads((ROOT / "benchmarks" / "budgets.toml").read_text())["appointments"]["free_slots"]
    print(f"Recherche des créneaux libres d'un lieu sur trois semaines : médiane {median:.1f} ms "
          f"(max {max(timings):.1f} ms, {args.runs} mesures), {statements} requêtes SQL, {found} créneaux")
    failures = []
    if args.bookings >= 50000 and median > budget["server_ms"]:
        failures.append(f"médiane {median:.1f} ms > budget {budget['server_ms']} ms")
    if statements > budget["queries"]:
        failures.append(f"{statements} requêtes SQL > budget {budget['queries']}")
    print("budget : " + ("DÉPASSÉ — " + "; ".join(failures) if failures else "respecté"))
    engine.dispose()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
