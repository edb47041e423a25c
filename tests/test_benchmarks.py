"""The benchmark scripts keep working as the code changes: each runs here at a tiny size.
Their figures are printed by CI or by hand, never asserted (timed tests would be flaky)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def benchmarks_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_the_scale_benchmark_runs_at_a_tiny_size(benchmarks_on_path, capsys):
    """Loads, measures and prints every ratio (on PostgreSQL, which it needs for its bulk load)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("benchmarks/scale.py needs PostgreSQL: set TEST_DATABASE_URL")
    import scale

    import tests.conftest as conftest

    try:
        rows = scale.run(url, people=20, requests=200, small_requests=20, runs=1)
    finally:
        conftest._pg_schema_ready = False  # the schema was rebuilt by the migrations
    names = [row[0] for row in rows]
    assert {"Mes démarches", "Enregistrement automatique", "Worker : purge des brouillons",
            "Worker : échéances", "Suppression d'un compte"} <= set(names)
    assert all(small > 0 and large > 0 for _name, small, large, _ratio in rows)
    printed = capsys.readouterr().out
    assert "Back-office" in printed and "ratio" in printed
    del sys.modules["scale"]
