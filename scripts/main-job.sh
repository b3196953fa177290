#!/usr/bin/env bash
# The main job on the embedded default, with the missive binary given (default
# build/release/missive): queue a message into the SQLite outbox (no server configured), start
# `missive capture` on a free loopback port, deliver the outbox to it, print the per-recipient
# report and the outbox afterwards. Everything lives in one temporary folder, kept and named at
# the end. scripts/demo.sh builds missive and runs this; ctest `main_job` runs it too.
set -euo pipefail
missive=${1:-build/release/missive}
work=${MISSIVE_DEMO_DIR:-$(mktemp -d /tmp/missive-demo.XXXXXX)}
mkdir -p "$work"
outbox=$work/outbox.db

echo "== 1. queue a message (no server configured: it goes into the outbox)"
"$missive" send --outbox "$outbox" \
    --from 'Ada Lovelace <ada@example.org>' --to bob@example.org --bcc carol@example.org \
    --subject 'Grüße from missive 👋' --text $'Hello Bob,\nthe README is attached.\n' \
    --attach README.md

echo "== 2. start missive capture on a free loopback port"
"$missive" capture --listen 127.0.0.1:0 --maildir "$work/maildir" >"$work/capture.log" 2>&1 &
capture=$!
trap 'kill $capture 2>/dev/null || true' EXIT
port=
for _ in $(seq 100); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$work/capture.log")
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { cat "$work/capture.log"; exit 1; }
echo "capture listens on 127.0.0.1:$port (STARTTLS with its own certificate)"

echo "== 3. deliver the outbox to it: one line per recipient"
"$missive" deliver --outbox "$outbox" --server "smtp://127.0.0.1:$port" --tls required \
    --ca-file "$work/maildir/capture-cert.pem" --once

echo "== 4. the outbox now"
"$missive" queue --outbox "$outbox"
echo "== the message as capture stored it (Bcc is in the envelope only):"
head -n 8 "$work"/maildir/new/*
echo "== everything is in $work"
