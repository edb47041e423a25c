"""Columns every table holding an uploaded file carries: where its check stands.

A file arrives ``pending``: the request only did the cheap checks (size, type, declared size
of the image or the page tree). The worker then checks it fully (and scans it when clamd is
configured): ``ok`` makes it usable, ``rejected`` removes its bytes and keeps the row only to
tell the person why (``check_message``, French).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

PENDING, OK, REJECTED = "pending", "ok", "rejected"


class CheckedFileMixin:
    # Fail closed: a row made without saying otherwise waits for the worker's check.
    check_status: Mapped[str] = mapped_column(String(20), default=PENDING, server_default=OK, index=True)
    check_message: Mapped[str | None] = mapped_column(String(500))
    check_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    check_after: Mapped[datetime | None]  # retry not before (clamd unreachable)

    @property
    def is_checked(self) -> bool:
        return self.check_status == OK

    @property
    def is_pending(self) -> bool:
        return self.check_status == PENDING

    @property
    def is_rejected(self) -> bool:
        return self.check_status == REJECTED
