#!/usr/bin/env bash
# stop-servers.sh DIR: stops what start-smtp-sink.sh and start-postfix.sh started in DIR, and
# nothing else.
set -uo pipefail
dir=$1
PATH=$PATH:/usr/sbin
for pidfile in "$dir"/*.pid; do
    [ -f "$pidfile" ] || continue
    kill "$(cat "$pidfile")" 2>/dev/null
    rm -f "$pidfile"
done
if [ -f "$dir/pf/main.cf" ] && [ -f "$dir/pfqueue/pid/master.pid" ]; then
    postfix -c "$dir/pf" stop >/dev/null 2>&1
fi
exit 0
