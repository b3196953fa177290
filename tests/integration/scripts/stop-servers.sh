#!/usr/bin/env bash
# stop-servers.sh DIR: stops what the start-*.sh scripts started for DIR, and nothing else:
# each process named by a DIR/*.pid file (checked to still be ours: its command line names DIR
# or its port, as a recycled PID would not), then the PostgreSQL cluster of DIR/pg and the Postfix
# instance of DIR/pf. Waits until
# they and their children are gone. Safe to run twice, or when nothing was started.
set -uo pipefail
dir=$1
PATH=$PATH:/usr/sbin

# descendants PID: PID's children, grandchildren …
descendants() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        echo "$child"
        descendants "$child"
    done
}

waiting=()
for pidfile in "$dir"/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    name=$(basename "$pidfile" .pid)
    port=$(cat "$dir/$name.port" 2>/dev/null || echo none)
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
    if [[ -n "$cmdline" && ( "$cmdline" == *"$dir"* || " $cmdline " =~ [\ :]$port\  ) ]]; then
        waiting+=("$pid" $(descendants "$pid"))
        kill "$pid" 2>/dev/null
        echo "stopped $name (pid $pid)"
    fi
    rm -f "$pidfile"
done
"$(dirname "$0")/stop-postgres.sh" "$dir"
if [ -f "$dir/pf/main.cf" ] && [ -f "$dir/pfqueue/pid/master.pid" ]; then
    postfix -c "$dir/pf" stop >/dev/null 2>&1 && echo "stopped postfix ($dir/pf)"
fi

# Up to 10 s for everything to exit (Dovecot's children take 1-3 s), then SIGKILL.
for _ in $(seq 1 100); do
    alive=()
    for pid in "${waiting[@]}"; do
        kill -0 "$pid" 2>/dev/null && alive+=("$pid")
    done
    [ ${#alive[@]} -eq 0 ] && exit 0
    waiting=("${alive[@]}")
    sleep 0.1
done
echo "killing what did not stop: ${waiting[*]}" >&2
kill -9 "${waiting[@]}" 2>/dev/null
exit 0
