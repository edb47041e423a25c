"""Database wiring: typed declarative base, one engine per app, one session per request.

Transaction rule (see docs/ARCHITECTURE.md): services never commit. The request is the
unit of work: ``commit_request`` commits once after the view returned a non-5xx
response, and the teardown rolls back anything left (an exception, a 5xx). Commands
and the worker commit explicitly, once per unit of work.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, request
from sqlalchemy import DateTime, Engine, MetaData, Select, create_engine, event
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


session = scoped_session(sessionmaker(expire_on_commit=False))


def claim(query: Select) -> Any:
    """The first row of ``query``, locked for this worker's transaction, or None when there is
    none or another worker holds it (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has a
    single writer). On None the transaction is rolled back, ready for the next row."""
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = session.scalars(query).first()
    if row is None:
        session.rollback()
    return row


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # No pre-ping: it is one more round trip on every request. A connection broken by a
    # database restart fails one request; SQLAlchemy then drops every pooled connection.
    return create_engine(url, pool_recycle=3600)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["sqlalchemy_engine"] = engine
    session.configure(bind=engine)

    if engine.dialect.name == "sqlite":

        @app.before_request
        def sqlite_write_lock() -> None:
            """SQLite: take the write lock up front (BEGIN IMMEDIATE).

            Two concurrent requests that both read then write (an autosave racing a step post)
            would otherwise make the later writer fail at once with "database is locked"
            (a stale WAL snapshot is not retried by busy_timeout). Queued, they both succeed.
            """
            if request.endpoint == "static":
                return
            connection = session.connection()
            if not connection.connection.dbapi_connection.in_transaction:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

    @app.after_request
    def commit_request(response: Response) -> Response:
        if response.status_code < 500:
            try:
                session.commit()
            except Exception:
                session.rollback()
                raise
        return response

    @app.teardown_appcontext
    def remove_session(_exc: BaseException | None) -> None:
        session.rollback()
        session.remove()
