#!/usr/bin/env bash
# The main job: install what is missing, build missive, and send a message to the embedded
# default: with no server configured, `missive send` writes the message as a .eml file into an
# outbox folder and says where. Then show the start of what it wrote.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target missive_cli
outbox=${MISSIVE_DEMO_OUTBOX:-$(mktemp -d /tmp/missive-demo.XXXXXX)/outbox}
build/release/missive send --from 'Ada Lovelace <ada@example.org>' --to bob@example.org \
    --subject 'Grüße from missive 👋' --text $'Hello Bob,\nthe README is attached.\n' \
    --attach README.md --outbox "$outbox"
echo "== the first lines of what was written:"
head -n 24 "$outbox"/*.eml
