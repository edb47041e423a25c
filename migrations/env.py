"""Alembic environment: runs inside the Flask app, on the app's engine."""

from __future__ import annotations

from alembic import context
from flask import current_app

from portal.db import Base
from portal.models import import_all_models

import_all_models()
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = current_app.extensions["sqlalchemy_engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
