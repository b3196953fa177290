#!/usr/bin/env bash
# stop-postgres.sh DIR: stops the cluster start-postgres.sh started in DIR/pg (pg_ctl stop -m
# fast: open connections are ended, nothing waits for them). Safe to run twice, or when nothing
# was started.
set -uo pipefail
dir=$1
bin=${MISSIVE_PG_BIN:-/usr/lib/postgresql/15/bin}
[ -f "$dir/pg/postmaster.pid" ] || exit 0
if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$bin/pg_ctl" stop -D "$dir/pg" -m fast -w -t 30 >/dev/null
else
    "$bin/pg_ctl" stop -D "$dir/pg" -m fast -w -t 30 >/dev/null
fi && echo "stopped postgres ($dir/pg)"
rm -f "$dir/postgres.port" "$dir/postgres.conninfo" "$dir/pg_service.conf"
exit 0
