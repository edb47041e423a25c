"""The baseline the autosave is measured against: a bare Flask + SQLAlchemy app doing one read
and one JSON update per POST (no session, no CSRF, no template). ``benchmarks/autosave.py``
serves it with gunicorn beside the portal, on the same database.

    DATABASE_URL=… gunicorn --chdir benchmarks baseline_app:app
"""

from __future__ import annotations

import os

from flask import Flask, request
from sqlalchemy import JSON, Integer, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class BaselineDraft(Base):
    __tablename__ = "baseline_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)


def engine_for(url: str):
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url)


engine = engine_for(os.environ.get("DATABASE_URL", "sqlite:///baseline.sqlite3"))
Session = sessionmaker(engine)
app = Flask(__name__)


@app.post("/save/<int:draft_id>")
def save(draft_id: int):
    with Session.begin() as session:
        draft = session.scalar(select(BaselineDraft).where(BaselineDraft.id == draft_id))
        draft.answers = {**draft.answers, **request.form.to_dict()}
        draft.version += 1
        version = draft.version
    return f"saved {version}"
