#!/usr/bin/env bash
# Set up and serve Guichet on http://127.0.0.1:5000 with demo data on SQLite.
source "$(dirname "$0")/_venv.sh"
flask db upgrade
flask demo
echo "Courriels : affichés ici et sur http://127.0.0.1:${PORT:-5000}/dev/emails"
flask worker --interval 2 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null' EXIT
flask run --host 127.0.0.1 --port "${PORT:-5000}"
