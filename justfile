# Lost & Found recipes. Each is a thin wrapper over a cargo command, so
# nothing here is required: the README's commands work without `just`.
# Install it with `cargo install just` if you like short commands.

# List the recipes.
default:
    @just --list

# Run every test in the workspace (the README's test command).
test:
    cargo test --workspace

# The main job: replay the June 2021 incident and print the lost & found
# report. Pass options through: `just demo --step` (pause after each step,
# for a live audience), `just demo --variant verified-cleanup`, `--trace`.
demo *args:
    cargo run --release -- scenario run hypha-2021 {{args}}

# Serve the book at http://127.0.0.1:3000 (needs `cargo install mdbook --locked`).
book:
    mdbook serve book

# Grade your exercises in order; pass options through, e.g.
# `just grade --watch`, `just grade --hint`, `just grade --list`.
grade *args:
    cargo run --release -q -- grade {{args}}

# Throughput of the protocol core, then of backfill between two servers
# (BACKFILL_EVENTS, default 100,000), then the wall time of the hypha-2021
# replay and its variants; release build; prints figures.
bench:
    cargo bench -p lostfound-protocol && cargo bench -p lostfound-server --bench backfill && cargo bench -p lostfound-lab --bench scenario

# Message sends/s, latency and memory of `lostfound serve` beside Synapse on
# SQLite (installs Synapse into .venv; about two minutes; not part of CI).
bench-server:
    bash interop/bench-server.sh

# A real Matrix client (matrix-nio) against `lostfound serve` (as CI runs it).
interop:
    bash interop/run-nio.sh

# Run a homeserver on http://127.0.0.1:8008 with its data in ./hs-data.
serve:
    cargo run --release -- serve --name localhost --port 8008 --data hs-data

# Formatting and lints, exactly as CI checks them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --all-features -- -D warnings

# Compare our hashes, IDs and signatures with Synapse's own Python code.
crosscheck:
    bash interop/run-crosscheck.sh

# Everything CI runs, in the same order.
ci:
    bash .ci/run
