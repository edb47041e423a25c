"""The worker's periodic guards live in the database: cron-driven passes and several workers
share them, so the six-hourly orphan-file sweep runs once in six hours wherever it runs."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from portal import db as database
from portal.core.models import WorkerGuard
from portal.db import utcnow
from portal.files import services as files

ROOT = Path(__file__).resolve().parent.parent


def cron_pass(app) -> dict:
    """``flask worker --once`` in its own process, as cron starts it: nothing kept in memory."""
    env = {**os.environ, "PORTAL_ENV": "development", "SECRET_KEY": "test-secret-key",
           "FILES_ENCRYPTION_KEY": app.config["FILES_ENCRYPTION_KEY"],
           "DATABASE_URL": app.config["DATABASE_URL"], "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
           "SMTP_HOST": "", "FLASK_APP": "wsgi"}
    done = subprocess.run([sys.executable, "-m", "flask", "worker", "--once"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def orphan(app, folder: Path) -> Path:
    with app.app_context():
        key = files.store_bytes(b"x")
        database.session.commit()
    os.utime(folder / key, (0, 0))  # written long ago, referenced by nothing
    return folder / key


def test_cron_driven_passes_sweep_once_in_six_hours(app, tmp_path):
    folder = tmp_path / "uploads"
    first = orphan(app, folder)
    assert cron_pass(app)["sweep_orphan_files"] == 1
    assert not first.exists()
    second = orphan(app, folder)
    assert cron_pass(app)["sweep_orphan_files"] == "skipped"  # a new process, the same guard
    assert second.exists()
    with app.app_context():  # six hours later
        database.session.execute(update(WorkerGuard).values(last_run_at=utcnow() - timedelta(hours=6)))
        database.session.commit()
    assert cron_pass(app)["sweep_orphan_files"] == 1
    assert not second.exists()


def test_a_period_is_claimed_by_one_worker_only(app):
    from portal.worker import claim_period

    now = utcnow()
    every = timedelta(hours=6)
    with app.app_context():
        assert claim_period("essai", every, now) is True
        assert claim_period("essai", every, now) is False  # a second worker, same instant
        assert claim_period("essai", every, now + timedelta(hours=5)) is False
        assert claim_period("essai", every, now + timedelta(hours=6)) is True
        assert claim_period("autre", every, now) is True  # each guard its own clock
