"""SQLite, the embedded default: two requests that read then write at the same time both succeed."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select, text

from portal import db
from portal.accounts.models import User
from tests.conftest import make_app


def test_concurrent_read_then_write_requests_queue_instead_of_failing(tmp_path, smtp_server):
    app = make_app("sqlite", tmp_path, smtp_server[1])

    @app.get("/test-read-then-write/<name>")
    def read_then_write(name):
        user = db.session.scalar(select(User))  # the read opens the snapshot
        time.sleep(0.2)  # the other request commits its write meanwhile
        user.nom = name
        db.session.execute(text("UPDATE users SET prenom = :p"), {"p": name})
        return "ok"

    with app.app_context():
        from portal.accounts.passwords import hash_password

        db.session.add(User(identifier="100000000000001", email="a@example.org",
                            password_hash=hash_password("x")))
        db.session.commit()
        db.session.remove()

    statuses: list[int] = []

    def call(name):
        statuses.append(app.test_client().get(f"/test-read-then-write/{name}").status_code)
        db.session.remove()

    threads = [threading.Thread(target=call, args=(n,)) for n in ("un", "deux")]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert statuses == [200, 200]


def test_each_sqlite_request_is_one_transaction_from_its_first_read(tmp_path, smtp_server):
    """Reads and writes of a request share one snapshot, so savepoints nest in a real transaction."""
    app = make_app("sqlite", tmp_path, smtp_server[1])

    @app.get("/test-in-transaction")
    def in_transaction():
        return str(db.session.connection().connection.dbapi_connection.in_transaction)

    assert app.test_client().get("/test-in-transaction").get_data(as_text=True) == "True"
