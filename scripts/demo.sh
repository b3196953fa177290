#!/usr/bin/env bash
# The main job: install what is missing, build missive, start a local SMTP server (Postfix's
# smtp-sink on a free loopback port), send it a message with the blocking client
# (examples/send_basic.cpp), show what the server received, and stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target send_basic
dir=$(mktemp -d /tmp/missive-demo.XXXXXX)
trap 'tests/integration/scripts/stop-servers.sh "$dir"' EXIT
tests/integration/scripts/start-smtp-sink.sh "$dir" sink
port=$(cat "$dir/sink.port")
echo "== smtp-sink listens on 127.0.0.1:$port"
build/release/send_basic 127.0.0.1 "$port" alice@example.org bob@example.org
sleep 0.2
echo "== what the server received ($dir/sink):"
cat "$dir"/sink/*
