#!/usr/bin/env bash
# Builds the CLI, makes a Python venv with Synapse's own libraries (pinned in
# requirements.txt), and compares our hashes, IDs and signatures with theirs.
# Used by .ci/run and `just crosscheck`; safe to run again (reuses .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${LOSTFOUND_VENV:-.venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import synapse, canonicaljson, signedjson' 2>/dev/null; then
  echo "installing Synapse and its JSON/signing libraries into $venv (about 30 s)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r interop/requirements.txt
fi
cargo build --release --locked -p lostfound-cli
LOSTFOUND_BIN=target/release/lostfound "$venv/bin/python" interop/crosscheck.py "$@"
