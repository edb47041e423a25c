"""Every foreign key has an index: deleting an account (ON DELETE CASCADE / SET NULL) and
loading a person's rows must not scan whole tables once there are a million requests."""

from __future__ import annotations

from sqlalchemy import inspect


def unindexed_foreign_keys(engine) -> list[str]:
    inspector = inspect(engine)
    missing = []
    for table in inspector.get_table_names():
        leading = [inspector.get_pk_constraint(table)["constrained_columns"]]
        leading += [index["column_names"] for index in inspector.get_indexes(table)
                    if not (index.get("dialect_options") or {}).get("postgresql_where")]
        # a unique constraint is backed by an index on both databases
        leading += [unique["column_names"] for unique in inspector.get_unique_constraints(table)]
        for key in inspector.get_foreign_keys(table):
            columns = key["constrained_columns"]
            if not any(found[:len(columns)] == columns for found in leading):
                missing.append(f"{table}.{','.join(columns)}")
    return sorted(missing)


def test_every_foreign_key_has_an_index(app, backend):
    """Runs on PostgreSQL (the production database) when TEST_DATABASE_URL is set, and on SQLite."""
    assert unindexed_foreign_keys(app.extensions["sqlalchemy_engine"]) == []
