"""Beyond one machine: two app servers and two workers on one PostgreSQL and one Redis.

Starts two gunicorn instances (2 workers each) and two ``flask worker`` processes on the same
PostgreSQL database and Redis database, with a local SMTP server (aiosmtpd), then drives them
over HTTP as people would:

1. registers on A, confirms the emailed link on B; logs in on A and continues on B;
2. fills a procedure's steps alternately on A and B, autosaves alternately on both;
3. submits the same draft from both at the same instant: exactly one request;
4. asks for password resets alternately on both while the two workers race, resets on B,
   logs in on A with the new password: every email is delivered exactly once;
5. the login throttle is shared: failures on A and B add up, and Flask-Limiter's per-address
   limit counts requests to both instances together (Redis).

Exit status 1 when a check fails. CI runs it (about a minute).

    python benchmarks/multi_instance.py [--database-url postgresql://…/scratch]
        [--redis-url redis://127.0.0.1:6379/2]

The database given is emptied (DROP SCHEMA public) and the Redis database flushed: give scratch
ones.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import servers  # noqa: E402
from browser import Autosaver, Browser, decoded, start_draft  # noqa: E402

PASSWORD, NEW_PASSWORD = "Correct-cheval9!", "Nouveau-cheval10!"
EMAIL = "multi@instances.example"
ADDRESS = {"adresse-adresse": "1 rue de la Paix", "adresse-code_postal": "62000", "adresse-commune": "Arras"}
RESETS = 2  # with the registration email, the per-recipient limit (accounts/limits.py): 3 per 15 min


class Mailbox:
    """What the SMTP server received, in order."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def wait_for(self, predicate, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [m for m in self.messages if predicate(m)]
            if found:
                return found[-1]
            time.sleep(0.2)
        raise AssertionError("email not received in time")


def link_in(message, base: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(re.escape(base) + r"(/\S+)", text).group(1)


def check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)
    print(f"  ok  {what}", flush=True)


def prepare(database_url: str, redis_url: str) -> None:
    from redis import Redis
    from sqlalchemy import text

    from portal import create_app
    from portal.cli import upgrade_database

    Redis.from_url(redis_url).flushdb()
    os.environ.update(servers.portal_env(database_url))
    app = create_app()
    engine = app.extensions["sqlalchemy_engine"]
    if engine.dialect.name != "postgresql":
        raise SystemExit("multi_instance.py needs PostgreSQL (--database-url postgresql://…)")
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    with app.app_context():
        upgrade_database()
    engine.dispose()


def database_rows(database_url: str, query: str, **params) -> list:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(query), params))
    finally:
        engine.dispose()


def every_email_once(mailbox: Mailbox, database_url: str) -> None:
    """Wait for the workers to empty the outbox, then match what SMTP received with it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pending = database_rows(database_url, "SELECT count(*) FROM outbox_emails WHERE sent_at IS NULL")[0][0]
        if not pending:
            break
        time.sleep(0.3)
    time.sleep(1)  # a message still on the wire after its row was marked sent
    # Each outbox row's stable Message-ID (made when queued) names what the SMTP server received.
    sent_ids = [row[0] for row in database_rows(
        database_url, "SELECT message_id FROM outbox_emails WHERE sent_at IS NOT NULL")]
    total = database_rows(database_url, "SELECT count(*) FROM outbox_emails")[0][0]
    with mailbox.lock:
        received = [m["Message-ID"] for m in mailbox.messages]
    check(len(sent_ids) == total, f"les {total} courriels de la base sont envoyés")
    check(sorted(received) == sorted(sent_ids), f"chacun reçu exactement une fois ({len(received)} reçus)")


def scenario(a: str, b: str, base_url: str, mailbox: Mailbox, database_url: str) -> None:
    person = Browser(a)
    print("1. inscription sur A, confirmation sur B, connexion sur A, suite sur B")
    person.get("/inscription")
    check(person.post("/inscription", {"email": EMAIL, "email_confirm": EMAIL}).status == 303,
          "inscription demandée sur A")
    confirm = link_in(mailbox.wait_for(lambda m: m["To"] == EMAIL), base_url)
    person.get(confirm, base=b)
    done = person.post(confirm, {"password": PASSWORD, "password_confirm": PASSWORD}, base=b)
    check(done.status == 303, "compte créé depuis le lien, sur B")
    person.get("/compte", base=b)
    person.post("/deconnexion", {}, base=b)
    check(person.login(EMAIL, PASSWORD).status == 303, "connexion sur A")
    elsewhere = person.get("/compte", base=b)
    check(elsewhere.status == 200 and EMAIL in elsewhere.text,
          f"la session ouverte sur A vaut sur B ({elsewhere.status} {elsewhere.headers.get('location', '')})")

    print("2. une démarche remplie en alternant A et B, enregistrements automatiques alternés")
    draft = start_draft(person, "cmi_duplicata", base=b)
    steps = [("motif", {"motif": "perte", "mention": "stationnement", "numero_carte": "CMI-99"}, a),
             ("titulaire", {"nom": "Martin", "prenom": "Camille", "date_naissance": "1950-03-27", **ADDRESS,
                            "email": EMAIL}, b)]
    for step, answers, where in steps:
        person.get(f"/brouillons/{draft}/etapes/{step}", base=where)
        posted = person.post(f"/brouillons/{draft}/etapes/{step}", {"action": "continuer", **answers}, base=where)
        check(posted.status == 303, f"étape « {step} » enregistrée sur {'A' if where == a else 'B'}")
    saver = Autosaver(person, draft, "titulaire")
    names = ["Camille", "Camilla", "Camillo", "Camila", "Kamille", "Camylle"]  # names: no digits
    for index, name in enumerate(names):
        where = (a, b)[index % 2]
        saved = saver.save("prenom", name, base=where)
        assert saved.status == 200 and 'data-save-state="saved"' in decoded(saved), decoded(saved)[:300]
    stored = database_rows(database_url, "SELECT answers->>'prenom' FROM dossiers WHERE id = :d", d=draft)[0][0]
    check(stored == names[-1], "6 enregistrements automatiques alternés A/B, le dernier est gardé")
    person.get(f"/brouillons/{draft}/etapes/paiement", base=a)
    check(person.post(f"/brouillons/{draft}/etapes/paiement", {"action": "continuer", "accord_tarif": "oui"},
                      base=a).status == 303, "étape « paiement » enregistrée sur A")

    print("3. le même brouillon déposé depuis A et B au même instant")
    summary = person.get(f"/brouillons/{draft}/recapitulatif", base=b).text
    version = re.search(r'name="version" value="(\d+)"', summary).group(1)
    barrier, answers = threading.Barrier(2), {}

    def submit(where: str) -> None:
        barrier.wait()
        answers[where] = person.post(f"/brouillons/{draft}/deposer", {"version": version}, base=where)

    threads = [threading.Thread(target=submit, args=(where,)) for where in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check(all(r.status == 303 and "/confirmation" in r.headers["location"] for r in answers.values()),
          "les deux envois mènent à la même confirmation "
          f"({[(r.status, r.headers.get('location', '')) for r in answers.values()]})")
    rows = database_rows(database_url, "SELECT reference FROM dossiers WHERE id = :d", d=draft)
    events = database_rows(database_url, "SELECT count(*) FROM dossier_events WHERE dossier_id = :d", d=draft)
    queued = database_rows(database_url, "SELECT count(*) FROM outbox_emails WHERE recipient = :e AND "
                                         "subject LIKE '%%déposée%%'", e=EMAIL)
    check(rows[0][0] is not None and events[0][0] == 1 and queued[0][0] == 1,
          f"une seule demande ({rows[0][0]}), un seul historique « Déposée », un seul courriel")

    print(f"4. {RESETS} demandes de réinitialisation alternées A/B pendant que les deux workers se disputent l'envoi")
    for index in range(RESETS):
        where = (a, b)[index % 2]
        stranger = Browser(where)
        stranger.get("/mot-de-passe-oublie")
        asked = stranger.post("/mot-de-passe-oublie", {"login": EMAIL})
        assert asked.status == 303, (asked.status, asked.text[:500])
    check(True, f"{RESETS} réinitialisations demandées, alternativement sur A et B")
    one_more = Browser(b)
    one_more.get("/mot-de-passe-oublie")
    check(one_more.post("/mot-de-passe-oublie", {"login": EMAIL}).status == 429,
          "la suivante est refusée (429) : la limite par destinataire est partagée par A et B (Redis)")
    every_email_once(mailbox, database_url)
    resets = [m for m in mailbox.messages if m["To"] == EMAIL and "initialisation" in m["Subject"]]
    check(len(resets) == RESETS, f"{RESETS} liens de réinitialisation, un par demande")
    reset = link_in(resets[-1], base_url)
    other = Browser(b)
    other.get(reset)
    check(other.post(reset, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).status == 303,
          "nouveau mot de passe choisi sur B")
    check(person.get("/compte/informations", base=a).status in (302, 303),
          "l'ancienne session est fermée partout (A)")
    fresh = Browser(a)
    check(fresh.login(EMAIL, NEW_PASSWORD).status == 303, "connexion sur A avec le nouveau mot de passe")

    print("5. limitation partagée : échecs de connexion et limite par adresse")
    attacker = Browser(a)
    for index in range(5):
        attacker.login(EMAIL, "Mauvais-mot-de-passe1!", base=(a, b)[index % 2])
    blocked = attacker.login(EMAIL, NEW_PASSWORD, base=b)
    check(blocked.status == 422 and "Trop de tentatives" in blocked.text,
          "5 échecs répartis sur A et B bloquent aussi le bon mot de passe sur B")
    # Emails asked from one address: PER_ADDRESS in portal/accounts/limits.py (10 per minute),
    # counted in Redis for A and B together (four processes counting apart would accept 40).
    accepted, refused = 0, False
    for index in range(40):
        where = (a, b)[index % 2]
        asker = Browser(where)
        asker.get("/mot-de-passe-oublie")
        if asker.post("/mot-de-passe-oublie", {"login": f"personne{index}@inconnue.example"}).status == 429:
            refused = True
            break
        accepted += 1
    check(refused and accepted <= 10,
          f"limite de 10 par minute et par adresse tenue sur A et B ensemble ({accepted} acceptées)")
    every_email_once(mailbox, database_url)  # the "password changed" emails too


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("MULTI_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("MULTI_REDIS_URL", "redis://127.0.0.1:6379/2"))
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url postgresql://… (a scratch database: it is emptied)")
    from aiosmtpd.controller import Controller

    started = time.monotonic()
    prepare(args.database_url, args.redis_url)
    mailbox = Mailbox()
    smtp_port = servers.free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    workdir = Path(tempfile.mkdtemp(prefix="guichet-multi-"))
    port_a, port_b = servers.free_port(), servers.free_port()
    base_url = f"http://127.0.0.1:{port_a}"
    env = servers.portal_env(args.database_url, RATELIMIT_STORAGE_URI=args.redis_url, SMTP_HOST="127.0.0.1",
                             SMTP_PORT=str(smtp_port), PORTAL_BASE_URL=base_url,
                             UPLOAD_FOLDER=str(workdir / "uploads"), FLASK_APP="wsgi")
    processes, logs = [], []
    try:
        for name, port in (("a", port_a), ("b", port_b)):
            log = workdir / f"gunicorn-{name}.log"
            processes.append(servers.gunicorn("wsgi:app", port, {**env, "STATIC_BUILD_DIR": str(workdir / name)},
                                              log, workers=2))
            logs.append(log)
        for name in ("1", "2"):
            log = workdir / f"worker-{name}.log"
            processes.append(servers.start([servers.PYTHON, "-m", "flask", "worker", "--interval", "0.5"], env, log))
            logs.append(log)
        for port, process, log in ((port_a, processes[0], logs[0]), (port_b, processes[1], logs[1])):
            servers.wait_until_up(f"http://127.0.0.1:{port}/", process, log)
        print(f"A http://127.0.0.1:{port_a}, B http://127.0.0.1:{port_b} (gunicorn, 2 workers chacun), "
              f"2 workers, PostgreSQL {args.database_url.split('@')[-1]}, Redis {args.redis_url}, SMTP :{smtp_port}")
        scenario(f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}", base_url, mailbox, args.database_url)
    except AssertionError as failure:
        print(f"ÉCHEC : {failure}")
        for log in logs:
            print(f"--- {log.name}\n{log.read_text()[-2000:]}")
        return 1
    finally:
        servers.stop(*processes)
        smtp.stop()
    print(f"plusieurs instances : tout est vérifié en {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
