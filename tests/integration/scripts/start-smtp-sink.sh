#!/usr/bin/env bash
# start-smtp-sink.sh DIR NAME [smtp-sink options…]
# Starts Postfix's smtp-sink on a free loopback port; every message is dumped into DIR/NAME/.
# Writes DIR/NAME.port and DIR/NAME.pid. Example: start-smtp-sink.sh /tmp/x sink_nopipe -p
set -euo pipefail
dir=$1 name=$2
shift 2
. "$(dirname "$0")/lib.sh"
command -v smtp-sink >/dev/null || PATH=$PATH:/usr/sbin
mkdir -p "$dir/$name"
chmod 755 "$dir"
chown nobody:nogroup "$dir/$name"
port=$(free_port)
# 100: backlog. -u: smtp-sink refuses to run as root without a user to drop to.
smtp-sink -u nobody "$@" -d "$dir/$name/%Y%m%d%H%M%S." "127.0.0.1:$port" 100 \
    >"$dir/$name.log" 2>&1 &
echo $! >"$dir/$name.pid"
echo "$port" >"$dir/$name.port"
wait_for_banner "$port"
