#!/usr/bin/env bash
# Set up and serve Guichet on http://127.0.0.1:5000 with demo data on SQLite.
source "$(dirname "$0")/_venv.sh"
export PORTAL_ENV=development   # chosen explicitly: anything else runs as production
export PORT="${PORT:-5000}"
export PORTAL_BASE_URL="${PORTAL_BASE_URL:-http://127.0.0.1:$PORT}"  # links in emails
flask db upgrade
flask demo
echo "Courriels : affichés ici et sur $PORTAL_BASE_URL/dev/emails"
flask worker --interval 2 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null' EXIT
flask run --host 127.0.0.1 --port "$PORT"
