#!/usr/bin/env bash
# start-smtp-sink.sh DIR [NAME [smtp-sink options…]]
# Starts Postfix's smtp-sink in the background on a free loopback port; every message it
# receives is dumped into DIR/NAME/ (one file per transaction). NAME defaults to "sink".
# Writes DIR/NAME.port and DIR/NAME.pid; stop it with stop-servers.sh DIR.
# Variants: start-smtp-sink.sh DIR sink_nopipe -p   (no PIPELINING)
#           start-smtp-sink.sh DIR sink_lmtp -L     (LMTP)
set -euo pipefail
dir=$1 name=${2:-sink}
shift $(($# < 2 ? $# : 2))
. "$(dirname "$0")/lib.sh"
command -v smtp-sink >/dev/null || PATH=$PATH:/usr/sbin
mkdir -p "$dir/$name"
chmod 755 "$dir"  # smtp-sink runs as nobody and must reach its dump directory
chown nobody:nogroup "$dir/$name"
# A port can be taken between the check and the bind; then try another one.
for attempt in 1 2 3; do
    port=$(free_port "$dir")
    # -u: smtp-sink refuses to run as root without a user to drop to. 100: listen backlog.
    smtp-sink -u nobody "$@" -d "$dir/$name/%Y%m%d%H%M%S." "127.0.0.1:$port" 100 \
        >"$dir/$name.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/$name.pid"
    echo "$port" >"$dir/$name.port"
    rc=0
    wait_for_banner "$port" "$pid" || rc=$?
    [ "$rc" -eq 0 ] && exit 0
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$dir/$name.pid" "$dir/$name.port"
    [ "$rc" -eq 2 ] || break
done
echo "smtp-sink $name did not start; its log:" >&2
cat "$dir/$name.log" >&2
exit 1
