#!/usr/bin/env bash
# Set up and run the whole test suite (SQLite, plus PostgreSQL when TEST_DATABASE_URL is set).
source "$(dirname "$0")/_venv.sh"
ruff check portal tests migrations scripts benchmarks wsgi.py
python -m pytest "$@"
