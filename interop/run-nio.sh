#!/usr/bin/env bash
# Runs a real Matrix client library (matrix-nio, pinned in
# requirements-nio.txt) against a fresh `lostfound serve` on 127.0.0.1:
# register, login, rooms, 50 messages through /sync, /messages, password
# change, media, profile (see nio_smoke.py). Reuses the venv (.venv, or
# $LOSTFOUND_VENV) and installs matrix-nio into it only when it is missing.
#
#   bash interop/run-nio.sh             # against our server (release build)
#   bash interop/run-nio.sh --synapse   # the same script against Synapse, to
#                                       # check the script itself
# The server is always stopped on exit; its log's tail is printed when the
# run fails. Exit status: the script's (0 all passed, 1 a step failed), or 2
# when the server could not be built or started.
set -euo pipefail
cd "$(dirname "$0")/.."
target=lostfound
if [ "${1:-}" = "--synapse" ]; then
  target=synapse
  shift
fi
venv=${LOSTFOUND_VENV:-.venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import nio, aiohttp' 2>/dev/null; then
  echo "installing matrix-nio into $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r interop/requirements-nio.txt
fi
if [ "$target" = synapse ] && ! "$venv/bin/python" -c 'import synapse' 2>/dev/null; then
  echo "installing Synapse into $venv (about 30 s)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r interop/requirements.txt
fi
if [ "$target" = lostfound ]; then
  cargo build --release --locked -p lostfound-cli
fi

# A free port on 127.0.0.1 (the kernel picks it; a tiny race is acceptable here).
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d "${TMPDIR:-/tmp}/lostfound-nio.XXXXXX")
log="$data/server.log"
server_pid=
status=0

log_tail() {
  echo "---- last 40 lines of the $target server's log ($log) ----"
  tail -n 40 "$log" 2>/dev/null || true
  if [ "$target" = synapse ]; then
    echo "---- last 40 lines of $data/synapse/homeserver.log ----"
    tail -n 40 "$data/synapse/homeserver.log" 2>/dev/null || true
  fi
  echo "----"
}

cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  if [ "$status" -eq 0 ]; then
    rm -rf "$data"
  else
    echo "(server data and log kept in $data)"
  fi
}
trap 'status=$?; cleanup; exit $status' EXIT
trap 'exit 130' INT TERM

if [ "$target" = lostfound ]; then
  echo "starting lostfound serve on 127.0.0.1:$port (data in $data)"
  RUST_LOG=${RUST_LOG:-info} target/release/lostfound serve \
    --name "localhost:$port" --bind 127.0.0.1 --port "$port" --data "$data/server" >"$log" 2>&1 &
else
  echo "starting Synapse on 127.0.0.1:$port (data in $data/synapse)"
  "$venv/bin/python" interop/local_synapse.py --dir "$data/synapse" --port "$port" >"$log" 2>&1 &
fi
server_pid=$!

url="http://127.0.0.1:$port"
ready=
for _ in $(seq 1 60); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the $target server exited before answering (status $(wait "$server_pid"; echo $?))" >&2
    log_tail >&2
    exit 2
  fi
  if "$venv/bin/python" - "$url/_matrix/client/versions" <<'EOF' 2>/dev/null; then
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
    sys.exit(0 if response.status == 200 else 1)
EOF
    ready=1
    break
  fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "the $target server did not answer GET /_matrix/client/versions on $url within 30 s" >&2
  log_tail >&2
  exit 2
fi

# The server must listen on 127.0.0.1 only (never on every interface).
if command -v ss >/dev/null; then
  wide=$(ss -ltnH "sport = :$port" | awk '{print $4}' | grep -v '^127\.' || true)
  if [ -n "$wide" ]; then
    echo "the $target server listens on $wide, not only on 127.0.0.1: stopping" >&2
    exit 2
  fi
fi

if "$venv/bin/python" interop/nio_smoke.py --homeserver "$url" "$@"; then
  status=0
else
  status=$?
  log_tail
fi
exit "$status"
