# Shared helpers for the test-server scripts. Source it; do not run it.

# free_port [DIR]: prints a loopback TCP port nobody listens on. smtp-sink and Postfix set
# SO_REUSEPORT, so binding a busy port would succeed silently and share its connections:
# the port is checked by trying to connect and by binding it without SO_REUSEPORT (and without
# SO_REUSEADDR, so a port in TIME_WAIT counts as busy too). With DIR, the ports handed out
# before for DIR (listed in DIR/.ports) are never handed out again, so that a script may pick
# several ports before its server binds them.
free_port() {
    python3 - "${1:-}" <<'PY'
import pathlib, random, socket, sys
taken = set()
ledger = pathlib.Path(sys.argv[1], ".ports") if sys.argv[1] else None
if ledger and ledger.exists():
    taken = {int(p) for p in ledger.read_text().split()}
for _ in range(500):
    port = random.randint(20000, 60000)
    if port in taken:
        continue
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            continue  # somebody answers there
    except OSError:
        pass
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    if ledger:
        with ledger.open("a") as f:
            f.write(f"{port}\n")
    print(port)
    break
else:
    raise SystemExit("no free port")
PY
}

# wait_for_banner PORT [PID]: waits up to 10 s until PORT answers with a 220 line, then checks
# that exactly one socket listens on 127.0.0.1:PORT (a second one would be another server that
# raced us to the port with SO_REUSEPORT: the two would share connections). With PID, gives up
# as soon as that process has died. Returns 1 on failure, 2 when the port is shared.
wait_for_banner() {
    local port=$1 pid=${2:-} i
    for i in $(seq 1 100); do
        if python3 - "$port" <<'PY' 2>/dev/null; then
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1) as s:
    s.settimeout(2)
    if not s.recv(512).startswith(b"220"):
        raise SystemExit(1)
PY
            sole_listener "$port" || return 2
            return 0
        fi
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            echo "server for port $port (pid $pid) exited" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "server on port $port did not answer" >&2
    return 1
}

# sole_listener PORT: true when exactly one TCP socket listens on 127.0.0.1:PORT.
sole_listener() {
    local n
    n=$(awk -v want="$(printf '0100007F:%04X' "$1")" '$2 == want && $4 == "0A"' /proc/net/tcp | wc -l)
    if [ "$n" -ne 1 ]; then
        echo "$n sockets listen on 127.0.0.1:$1 (another server took the port too)" >&2
        return 1
    fi
}

# wait_for_port PORT: waits up to 10 s until something accepts connections on PORT.
wait_for_port() {
    local port=$1 i
    for i in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $port" >&2
    return 1
}
