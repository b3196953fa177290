#!/usr/bin/env bash
# bench/run_large_attachment.sh [MiB] — sends a message with a file attachment of MiB MiB
# (default 1024) to a local smtp-sink that discards what it receives, with
# examples/send_message.cpp from the release build, and prints the time taken and the peak
# memory of the sending process (GNU time's "Maximum resident set size"), next to a run with a
# 1 MiB attachment: the two peaks should be the same, whatever the attachment's size.
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-1024}
cmake --preset release >/dev/null
cmake --build --preset release --target send_message >/dev/null
. tests/integration/scripts/lib.sh
command -v smtp-sink >/dev/null || PATH=$PATH:/usr/sbin
dir=$(mktemp -d /tmp/missive-large.XXXXXX)
port=$(free_port "$dir")
smtp-sink -u nobody "127.0.0.1:$port" 100 >"$dir/sink.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
wait_for_banner "$port" "$pid"
for size in 1 "$mib"; do
    truncate -s "${size}M" "$dir/attachment-$size.bin"  # sparse: reads as zeros, costs no disk
    /usr/bin/time -f "%e s, peak RSS %M KiB" -o "$dir/time-$size" \
        build/release/send_message 127.0.0.1 "$port" ada@example.org bob@example.org \
        "$dir/attachment-$size.bin" >/dev/null
    echo "attachment of $size MiB: $(cat "$dir/time-$size")"
done
