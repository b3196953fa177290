# Shared helpers for the test-server scripts. Source it; do not run it.

# free_port: prints a loopback TCP port nobody listens on. smtp-sink and Postfix set
# SO_REUSEPORT, so binding a busy port would succeed silently and share its connections:
# the port is checked by binding it without SO_REUSEPORT and by trying to connect.
free_port() {
    python3 - <<'PY'
import random, socket
for _ in range(200):
    port = random.randint(20000, 60000)
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
    print(port)
    break
else:
    raise SystemExit("no free port")
PY
}

# wait_for_banner PORT: waits up to 10 s until PORT answers with a 220 line.
wait_for_banner() {
    local port=$1 i
    for i in $(seq 1 100); do
        if python3 - "$port" <<'PY' 2>/dev/null; then return 0; fi
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1) as s:
    s.settimeout(2)
    if not s.recv(512).startswith(b"220"):
        raise SystemExit(1)
PY
        sleep 0.1
    done
    echo "server on port $port did not answer" >&2
    return 1
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
