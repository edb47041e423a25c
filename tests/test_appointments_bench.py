"""The free-slot benchmark runs end to end (small data), so it cannot rot unnoticed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_free_slot_benchmark_runs_and_prints_its_figures():
    env = {key: value for key, value in os.environ.items() if key != "BENCH_DATABASE_URL"}
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "appointments_slots.py"),
                             "--runs", "2", "--bookings", "500"],
                            capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Recherche des créneaux libres d'un lieu sur trois semaines" in result.stdout
    assert "requêtes SQL" in result.stdout and "budget : respecté" in result.stdout
