#!/usr/bin/env bash
# Message sends per second, p50/p99 latency and RSS of `lostfound serve`
# (release build) beside Synapse on SQLite, driven by one load generator
# (bench_server.py) with 1 and 32 concurrent clients; each configuration is
# bounded (2,000 sends or 20 s). Servers listen on 127.0.0.1 only and are
# stopped on exit. Used by `just bench-server`; never by CI (slow and noisy).
# Options go to bench_server.py (--servers, --clients, --sends, --seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${LOSTFOUND_VENV:-.venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import synapse, yaml' 2>/dev/null; then
  echo "installing Synapse into $venv (about 30 s)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r interop/requirements.txt
fi
if ! "$venv/bin/python" -c 'import aiohttp' 2>/dev/null; then
  echo "installing aiohttp into $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r interop/requirements-nio.txt
fi
cargo build --release --locked -p lostfound-cli

workdir=$(mktemp -d "${TMPDIR:-/tmp}/lostfound-bench.XXXXXX")
bench_pid=
cleanup() {
  # bench_server.py stops its servers itself; this is for when it could not.
  if [ -n "$bench_pid" ]; then
    kill "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  for pidfile in "$workdir"/*.pid; do
    [ -f "$pidfile" ] || continue
    kill -9 "$(cat "$pidfile")" 2>/dev/null || true
  done
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$venv/bin/python" interop/bench_server.py --workdir "$workdir" "$@" &
bench_pid=$!
status=0
wait "$bench_pid" || status=$?
bench_pid=
exit "$status"
