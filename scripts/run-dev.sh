#!/usr/bin/env bash
# Start gunicorn and the scheduler together; Ctrl-C (or either one dying) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."  # the repository root: wsgi.py and .venv live there
BIN=${BIN:-.venv/bin}
PORT=${PORT:-8000}

"$BIN/flask" --app wsgi scheduler run &
scheduler=$!
# The access log leaves out IP addresses, user agents and query strings (personal data).
"$BIN/gunicorn" --bind "127.0.0.1:$PORT" --workers 2 --threads 4 --no-control-socket \
    --access-logfile - --graceful-timeout 5 \
    --access-logformat '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s' wsgi:app &
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
