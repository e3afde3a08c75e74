#!/usr/bin/env bash
# Start gunicorn and the scheduler together; Ctrl-C (or either one dying) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."  # the repository root: wsgi.py and .venv live there
BIN=${BIN:-.venv/bin}
PORT=${PORT:-8000}

"$BIN/flask" --app wsgi scheduler run &
scheduler=$!
# gunicorn.conf.py: request limits, and an access log without personal data or secrets.
CITYAPP_BIND="127.0.0.1:$PORT" CITYAPP_WORKERS=2 CITYAPP_THREADS=4 CITYAPP_GRACEFUL_TIMEOUT_S=5 \
    "$BIN/gunicorn" -c gunicorn.conf.py wsgi:app &
web=$!

stop() {
    trap - INT TERM EXIT
    kill -TERM "$web" "$scheduler" 2>/dev/null || true
    wait "$web" "$scheduler" 2>/dev/null || true
}
trap stop INT TERM EXIT

cat <<MSG

  cityapp is running:   http://127.0.0.1:$PORT/
  staff login:          http://127.0.0.1:$PORT/staff/login
  API docs:             http://127.0.0.1:$PORT/api/docs
  demo admin:           admin@musterstadt.example / ${CITYAPP_DEMO_PASSWORD:-musterstadt-demo}
  Press Ctrl-C to stop the web server and the scheduler.

MSG
# Whichever exits first ends the session; the trap stops the other.
wait -n "$web" "$scheduler"
