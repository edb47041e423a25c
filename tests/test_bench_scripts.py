"""The benchmark script runs end to end (a few iterations), so it cannot rot unnoticed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_demarches_runs_and_prints_its_figures():
    env = {key: value for key, value in os.environ.items() if key != "BENCH_DATABASE_URL"}
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_demarches.py"), "--runs", "2"],
                            capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    for label in ("Enregistrement automatique", "Affichage d'une étape", "Récapitulatif"):
        assert label in result.stdout
    assert "requêtes SQL" in result.stdout


def test_bench_uploads_runs_and_prints_its_figures():
    env = {key: value for key, value in os.environ.items() if key != "BENCH_DATABASE_URL"}
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_uploads.py"), "--runs", "1"],
                            capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    for label in ("PDF de 100 000 pages vides", "PNG déclarant 39,6 Mpx"):
        assert label in result.stdout
