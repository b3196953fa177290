#!/usr/bin/env bash
# STARTTLS with a new connection per message against `missive capture` (its Maildir in /dev/shm,
# so the server's fsync costs little): missive reconnecting one Client, missive with a new Client
# per message, and Python's smtplib as the reference, each RUNS times in the same sitting. Every
# client trusts the system's store, as real programs do (OpenSSL's default paths, with
# SSL_CERT_FILE pointing at the system bundle plus capture's certificate). Prints the medians of
# messages/s and of the client's CPU milliseconds per connection.
# Usage: bench/run_starttls.sh [N=300] [RUNS=5]   (after a release build)
#   BASELINE=path/to/another/build/starttls_connections adds that build's client (one Client
#   reconnecting) as a row, for before/after comparisons in the same sitting.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300} runs=${2:-5}
. tests/integration/scripts/lib.sh
port=$(free_port)
maildir=$(mktemp -d /dev/shm/missive-bench.XXXXXX)
build/release/missive capture --listen "127.0.0.1:$port" --maildir "$maildir" >/dev/null &
capture=$!
trap 'kill $capture; wait $capture 2>/dev/null; rm -rf "$maildir"' EXIT
wait_for_banner "$port"
cat /etc/ssl/certs/ca-certificates.crt "$maildir/capture-cert.pem" >"$maildir/bundle.pem"
export SSL_CERT_FILE=$maildir/bundle.pem
ca=-
# median of column $1 over the runs
median() { sort -g -k"$1" | awk -v c="$1" '{a[NR]=$c} END {print a[int((NR+1)/2)]}'; }
run() { for _ in $(seq "$runs"); do "$@"; rm -f "$maildir"/new/*; done; }
tool=build/release/starttls_connections
reuse=$(run "$tool" 127.0.0.1 "$port" "$ca" "$n" reuse)
fresh=$(run "$tool" 127.0.0.1 "$port" "$ca" "$n" new)
ref=$(run python3 bench/starttls_smtplib.py 127.0.0.1 "$port" "$ca" "$n")
rows=("missive, one Client reconnecting:reuse" "missive, a new Client each time:fresh")
if [ -n "${BASELINE:-}" ]; then
    base=$(run "$BASELINE" 127.0.0.1 "$port" "$ca" "$n" reuse)
    rows+=("baseline build, reconnecting:base")
fi
rows+=("Python smtplib:ref")
printf 'STARTTLS, one connection per message (%s messages, median of %s runs)\n' "$n" "$runs"
printf '%-34s %10s %18s\n' "" "messages/s" "client CPU ms/conn"
for row in "${rows[@]}"; do
    label=${row%%:*} var=${row##*:}
    printf '%-34s %10.0f %18.2f\n' "$label" "$(median 1 <<<"${!var}")" "$(median 2 <<<"${!var}")"
done
