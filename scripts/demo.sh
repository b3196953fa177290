#!/usr/bin/env bash
# The main job: install what is missing, build missive, start a local SMTP server (Postfix's
# smtp-sink on a free loopback port), send it a message built with mime::Builder through the
# blocking client (examples/send_message.cpp: HTML, an inline image, README.md attached), show
# what the server received, and stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target send_message
dir=$(mktemp -d /tmp/missive-demo.XXXXXX)
trap 'tests/integration/scripts/stop-servers.sh "$dir"' EXIT
tests/integration/scripts/start-smtp-sink.sh "$dir" sink
port=$(cat "$dir/sink.port")
echo "== smtp-sink listens on 127.0.0.1:$port"
build/release/send_message 127.0.0.1 "$port" "Alice <alice@example.org>" bob@example.org README.md
sleep 0.2
echo "== what the server received ($dir/sink):"
cat "$dir"/sink/*
