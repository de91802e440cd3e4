#!/usr/bin/env bash
# Start the service on a free loopback port, run the locust load test against
# it (infra/locustfile.py), print the summary, and stop the service.
# usage: infra/load-test.sh [USERS] [SECONDS]   (defaults: 7 users, 60 s)
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-7}
seconds=${2:-60}
bin=.venv/bin
port=$("$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
uploads=$(mktemp -d)
log=$(mktemp)
PORT=$port UPLOAD_DIR=$uploads RATE_LIMIT="" "$bin/gunicorn" -c gunicorn.conf.py server:app >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$uploads" "$log"' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.5
done
"$bin/locust" -f infra/locustfile.py --headless --only-summary -u "$users" -r "$users" -t "${seconds}s" \
  --host "http://127.0.0.1:$port" --stop-timeout 120
echo "uploads left on disk after the run: $(find "$uploads" -mindepth 1 | wc -l)"
