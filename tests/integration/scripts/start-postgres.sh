#!/usr/bin/env bash
# start-postgres.sh DIR [PORT]
# Starts a private PostgreSQL 15 cluster in DIR/pg (created with initdb when missing), listening
# on 127.0.0.1:PORT only (a free loopback port when PORT is omitted or 0), its Unix socket in
# DIR/pg too, trust authentication (loopback only: nothing else can connect), and creates the
# database `missive`. Writes DIR/postgres.port, DIR/postgres.conninfo (a libpq URI for the
# tests' MISSIVE_TEST_POSTGRES) and DIR/pg_service.conf, whose service `missive_test` names the
# same database: with PGSERVICEFILE=DIR/pg_service.conf, the connection string
# `service=missive_test` reaches it whatever port was picked (what ctest's fixture uses).
# Stop it with stop-postgres.sh DIR (or stop-servers.sh DIR): `pg_ctl stop -m fast`.
# The server refuses to run as root: run as root, the cluster belongs to the user postgres
# (runuser); run as anyone else, to that user.
set -euo pipefail
dir=$1 want=${2:-0}
. "$(dirname "$0")/lib.sh"
bin=${MISSIVE_PG_BIN:-/usr/lib/postgresql/15/bin}
data=$dir/pg
as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# port_is_free PORT: nobody answers on 127.0.0.1:PORT and it binds without SO_REUSEPORT.
port_is_free() {
    python3 - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
try:
    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
        raise SystemExit(1)
except OSError:
    pass
s = socket.socket()
try:
    s.bind(("127.0.0.1", port))
except OSError:
    raise SystemExit(1)
finally:
    s.close()
PY
}

"$(dirname "$0")/stop-postgres.sh" "$dir" >/dev/null  # what a previous run left running
mkdir -p "$dir"
chmod 755 "$dir"  # the postgres user must reach DIR/pg
if [ ! -f "$data/PG_VERSION" ]; then
    rm -rf "$data"
    mkdir -p "$data"
    [ "$(id -u)" != 0 ] || chown postgres: "$data"
    chmod 700 "$data"
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
        --locale=C --no-sync >"$dir/postgres-initdb.log" 2>&1 ||
        { cat "$dir/postgres-initdb.log" >&2; exit 1; }
fi
# A port can be taken between the check and the bind; then try another one.
for attempt in 1 2 3; do
    if [ "$want" != 0 ]; then
        port=$want
        port_is_free "$port" || { echo "port $port is in use" >&2; exit 1; }
    else
        port=$(free_port "$dir")
    fi
    rc=0
    as_postgres "$bin/pg_ctl" start -D "$data" -w -t 30 -l "$data/server.log" \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$data'" \
        >/dev/null || rc=$?
    if [ "$rc" -eq 0 ]; then
        sole_listener "$port" || rc=2
    fi
    if [ "$rc" -eq 0 ]; then
        echo "$port" >"$dir/postgres.port"
        break
    fi
    as_postgres "$bin/pg_ctl" stop -D "$data" -m fast >/dev/null 2>&1 || true
    if [ "$want" != 0 ] || [ "$attempt" -eq 3 ]; then
        echo "postgres did not start; its log:" >&2
        cat "$data/server.log" >&2
        exit 1
    fi
done
if ! as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qtA \
        -c "SELECT 1 FROM pg_database WHERE datname = 'missive'" | grep -q 1; then
    as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres missive
fi
echo "postgresql://postgres@127.0.0.1:$port/missive" >"$dir/postgres.conninfo"
printf '[missive_test]\nhost=127.0.0.1\nport=%s\ndbname=missive\nuser=postgres\n' "$port" \
    >"$dir/pg_service.conf"
cat "$dir/postgres.conninfo"
