"""Rows the worker keeps for itself: when each periodic guard last ran."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class WorkerGuard(Base):
    """The last start of a periodic job (the 6-hourly orphan-file sweep…).

    Kept in the database, not in memory: a cron-driven ``worker --once`` and several workers on
    several machines share it, so the job runs once per period, wherever it runs.
    """

    __tablename__ = "worker_guards"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_run_at: Mapped[datetime]
