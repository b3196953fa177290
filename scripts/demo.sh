#!/usr/bin/env bash
# The main job: install what is missing, build missive, then (scripts/main-job.sh) queue a
# message into the embedded SQLite outbox, start `missive capture` on a free loopback port,
# deliver the outbox to it and print the per-recipient report.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target missive_cli
./scripts/main-job.sh build/release/missive
