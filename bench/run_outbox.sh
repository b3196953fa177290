#!/usr/bin/env bash
# The durable outbox end to end, in one sitting, against Postfix as the queue. A private
# smtp-sink (-c: it counts the messages it took) is the final server of everyone. Then, RUNS
# times, round-robin (so that noise hits all alike):
#   missive, for 1, 2 and 4 workers, with SQLite (a fresh file in /tmp: WAL, synchronous=FULL)
#     and PostgreSQL (a fresh database of a private cluster, when the build and the CLI have it):
#       queue    `missive send --batch FILE --queue` of M messages of 1 KB (one transaction each)
#       deliver  `missive deliver --workers W --once -q` to the sink (the queue full at start)
#   Postfix, a private instance whose relayhost is the sink, fed the same M messages (the same
#   file, smtp-source -F, one SMTP session) into its smtpd:
#       end to end  from the first submission until the sink has counted M (Postfix relays
#                   while it receives: its queueing and its delivery overlap)
#       held        the M messages submitted to a second smtpd listener that puts them on hold
#                   (check_client_access static:HOLD); then `postsuper -H ALL` + `postqueue -f`,
#                   timed until the sink has counted M: Postfix's delivery alone, a queue full
#                   at start, as missive's deliver row
# Prints medians (messages/s) and the ratios missive / Postfix, writes every figure to
# build/bench/outbox.tsv and the report to build/bench/outbox-report.txt. Before that, unless
# ENQUEUE=0: build/release/outbox_enqueue (the library's enqueue rate, 1 KB and 100 KB).
# Benchmarks print figures and never fail on time; a run that loses a message fails.
# Usage: bench/run_outbox.sh [RUNS=3]   (after building the targets missive_cli and
#                                        outbox_enqueue in the release preset; as root)
#   M=1000        messages per measurement (each takes 2 to 10 s here: the fsyncs set the pace)
#   WORKERS="1 2 4"
#   POSTGRES=0    no PostgreSQL even when available
#   STRACE=1      also: the system calls per message of one SQLite queue and deliver (strace -c)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
. tests/integration/scripts/lib.sh
PATH=$PATH:/usr/sbin
bin=build/release
out=build/bench
m=${M:-1000}
workers=${WORKERS:-1 2 4}
mkdir -p "$out"
tmp=$(mktemp -d /tmp/missive-outbox.XXXXXX)
chmod 755 "$tmp"
pids=()
postfix_up=0 postgres_up=0
cleanup() {
    local p
    for p in "${pids[@]}"; do { kill "$p" && wait "$p"; } 2>/dev/null || true; done
    [ "$postfix_up" = 0 ] || postfix -c "$tmp/pf" stop >/dev/null 2>&1 || true
    [ "$postgres_up" = 0 ] || tests/integration/scripts/stop-postgres.sh "$tmp" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.3f", b - a}'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN {print (s == "-" || s <= 0) ? "-" : sprintf("%.1f", n / s)}'; }

# The sink's count of messages taken so far (its -c counters, separated by CR).
sink_count() {
    local c
    c=$(tail -c 300 "$tmp/sink.count" | tr '\r' '\n' | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -1)
    echo "${c:-0}"
}

# wait_sink TARGET: until the sink has counted TARGET messages (gives up after 10 minutes).
wait_sink() {
    local i
    for i in $(seq 1 60000); do
        [ "$(sink_count)" -lt "$1" ] || return 0
        sleep 0.01
    done
    echo "the sink counted $(sink_count) messages, not $1" >&2
    return 1
}

start_sink() {
    port=$(free_port "$tmp")
    smtp-sink -u nobody -c "127.0.0.1:$port" 1000 >"$tmp/sink.count" 2>"$tmp/sink.log" &
    pids+=($!)
    wait_for_banner "$port" "$!"
}

# A 1 KB message (LF line ends: smtp-source -F sends each line with CRLF; missive normalises
# them) and the batch of M lines that queue it, each with its id (the idempotency key).
make_messages() {
    {
        printf 'From: alice@example.org\nTo: bob@example.org\nSubject: outbox bench\n'
        printf 'Message-ID: <outbox-bench@missive.test>\n\n'
        local i
        for i in $(seq 1 12); do printf '%075d\n' "$i"; done
    } >"$tmp/message.eml"
    local size
    size=$(stat -c %s "$tmp/message.eml")
    head -c $((1024 - size - 1)) /dev/zero | tr '\0' 'z' >>"$tmp/message.eml"
    echo >>"$tmp/message.eml"
    awk -v m="$m" 'BEGIN {for (i = 1; i <= m; i++)
        printf "{\"id\":\"%d\",\"from\":\"alice@example.org\",\"to\":\"bob@example.org\",\"message\":\"message.eml\"}\n", i}' \
        >"$tmp/batch.jsonl"
}

start_postfix() {
    local pf=$tmp/pf
    mkdir -p "$pf" "$tmp/pfqueue"
    pf_port=$(free_port "$tmp")
    pf_hold=$(free_port "$tmp")
    cat >"$pf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $tmp/pfqueue
data_directory = $tmp/pfdata
maillog_file = $tmp/postfix.log
maillog_file_prefixes = $tmp
myhostname = mail.test.local
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
alias_maps =
alias_database =
local_header_rewrite_clients =
relayhost = [127.0.0.1]:$port
CF
    # Debian's stock service lines, without chroot; a second smtpd that holds what it takes.
    cat >"$pf/master.cf" <<CF
127.0.0.1:$pf_port inet n - n - - smtpd
127.0.0.1:$pf_hold inet n - n - - smtpd
  -o { smtpd_client_restrictions = check_client_access static:HOLD }
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
    postfix -c "$pf" check
    postfix -c "$pf" start >/dev/null 2>&1 || {
        echo "postfix did not start; its log:" >&2
        cat "$tmp/postfix.log" >&2 || true
        exit 1
    }
    postfix_up=1
    wait_for_banner "$pf_port"
    wait_for_banner "$pf_hold"
}

# PostgreSQL when the build has it (outbox_enqueue says so) and the CLI takes a URL.
start_postgres() {
    pg_cli=0
    [ "${POSTGRES:-1}" != 0 ] || return 0
    [ -x tests/integration/scripts/start-postgres.sh ] || { echo "no start-postgres.sh: SQLite only" >&2; return 0; }
    "$bin/outbox_enqueue" --postgres=x --runs=1 --small=0 --large=0 2>&1 |
        grep -q 'built without' && { echo "outbox_enqueue built without PostgreSQL: SQLite only" >&2; return 0; }
    tests/integration/scripts/start-postgres.sh "$tmp" >/dev/null
    postgres_up=1
    pg_base=$(cat "$tmp/postgres.conninfo")  # postgresql://postgres@127.0.0.1:PORT/missive
    pg_base=${pg_base%/*}
    if ! "$bin/missive" queue stats --outbox "$pg_base/missive" >/dev/null 2>"$tmp/pgcheck"; then
        echo "missive cannot use PostgreSQL ($(head -1 "$tmp/pgcheck")): its end-to-end rows are left out" >&2
        pg_cli=0
    else
        pg_cli=1
    fi
}

# psql as the cluster's owner.
pg_sql() {
    PGOPTIONS="-c client_min_messages=warning" runuser -u postgres -- \
        /usr/lib/postgresql/15/bin/psql -h 127.0.0.1 \
        -p "$(cat "$tmp/postgres.port")" -U postgres -d postgres -qtA -c "$1" >/dev/null
}

row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$out/outbox.tsv"; }

# missive_run STORE W RUN: queue M messages into a fresh outbox, then deliver them.
missive_run() {
    local store=$1 w=$2 where t q d before
    if [ "$store" = sqlite ]; then
        where=$tmp/outbox.db
        rm -f "$where" "$where-wal" "$where-shm"
    else
        pg_sql "DROP DATABASE IF EXISTS bench"
        pg_sql "CREATE DATABASE bench"
        where=$pg_base/bench
    fi
    t=$(now)
    "$bin/missive" send --batch "$tmp/batch.jsonl" --queue --outbox "$where" -q >/dev/null
    q=$(since "$t")
    before=$(sink_count)
    t=$(now)
    /usr/bin/time -f '%U %S' -o "$tmp/cpu" "$bin/missive" deliver --server "smtp://127.0.0.1:$port" \
        --outbox "$where" --workers "$w" --once -q
    d=$(since "$t")
    wait_sink $((before + m))
    row "$3" "missive-$store" "$w" "$m" "$q" "$d" \
        "$(awk -v a="$q" -v b="$d" 'BEGIN {printf "%.3f", a + b}')" "$(awk '{print $1 + $2}' "$tmp/cpu")"
}

# postfix_run RUN: end to end, then held and released.
postfix_run() {
    local before t q d
    before=$(sink_count)
    t=$(now)
    smtp-source -d -s 1 -m "$m" -F "$tmp/message.eml" -f alice@example.org -t bob@example.org \
        -M bench.missive.test "127.0.0.1:$pf_port"
    q=$(since "$t")
    wait_sink $((before + m))
    row "$1" postfix - "$m" "$q" - "$(since "$t")" -
    # Held: everything in the hold queue first, then released and flushed.
    t=$(now)
    smtp-source -d -s 1 -m "$m" -F "$tmp/message.eml" -f alice@example.org -t bob@example.org \
        -M bench.missive.test "127.0.0.1:$pf_hold"
    q=$(since "$t")
    local i
    for i in $(seq 1 3000); do
        [ "$(find "$tmp/pfqueue/hold" -type f | wc -l)" -lt "$m" ] || break
        sleep 0.01
    done
    before=$(sink_count)
    t=$(now)
    postsuper -c "$tmp/pf" -H ALL 2>/dev/null
    postqueue -c "$tmp/pf" -f
    wait_sink $((before + m))
    d=$(since "$t")
    row "$1" postfix-held - "$m" "$q" "$d" - -
}

# median_of SYSTEM WORKERS COLUMN (5 queue s, 6 deliver s, 7 total s, 8 deliver CPU s): "-" when
# none.
median_of() {
    awk -F'\t' -v s="$1" -v w="$2" -v k="$3" '$2 == s && $3 == w && $k != "-" {print $k}' \
        "$out/outbox.tsv" | sort -g | awk '{a[NR] = $1} END {print NR ? a[int((NR + 1) / 2)] : "-"}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print (a == "-" || b == "-" || b == 0) ? "-" : sprintf("%.2f", a / b)}'; }

report() {
    local pf_total pf_deliver pf_queue s w qr dr tr
    pf_total=$(rate "$m" "$(median_of postfix - 7)")
    pf_queue=$(rate "$m" "$(median_of postfix - 5)")
    pf_deliver=$(rate "$m" "$(median_of postfix-held - 6)")
    printf '\n%s messages of 1 KB per measurement; messages/s, median of %s runs (seconds are medians too)\n' "$m" "$runs"
    printf '%-26s %9s %11s %12s %12s %12s %10s\n' "" queue deliver "end to end" "deliver/PF" "e2e/PF" \
        "CPU ms/msg"
    for s in missive-sqlite missive-postgres; do
        for w in $workers; do
            [ "$(median_of "$s" "$w" 7)" != "-" ] || continue
            qr=$(rate "$m" "$(median_of "$s" "$w" 5)")
            dr=$(rate "$m" "$(median_of "$s" "$w" 6)")
            tr=$(rate "$m" "$(median_of "$s" "$w" 7)")
            printf '%-26s %9s %11s %12s %12s %12s %10s\n' "$s, $w worker$([ "$w" = 1 ] || echo s)" \
                "$qr" "$dr" "$tr" "$(ratio "$dr" "$pf_deliver")" "$(ratio "$tr" "$pf_total")" \
                "$(awk -v c="$(median_of "$s" "$w" 8)" -v m="$m" 'BEGIN {printf "%.2f", c * 1000 / m}')"
        done
    done
    printf '%-26s %9s %11s %12s\n' "postfix (relays at once)" "$pf_queue" "" "$pf_total"
    printf '%-26s %9s %11s %12s\n' "postfix (held, released)" \
        "$(rate "$m" "$(median_of postfix-held - 5)")" "$pf_deliver" ""
    printf '(queue: missive send --batch --queue, Postfix smtpd fed by smtp-source over 1 session;\n'
    printf ' deliver: the queue full at start; deliver/PF and e2e/PF: missive / Postfix;\n'
    printf ' CPU: user + sys of missive deliver, every thread)\n'
}

# With STRACE=1: the system calls of one SQLite queue and one deliver (1 worker), counted by
# strace -f -w -c (wall time in each call, strace's own cost included).
profile() {
    local where=$tmp/profile.db phase
    rm -f "$where" "$where-wal" "$where-shm"
    strace -f -w -c -o "$tmp/strace.queue" "$bin/missive" send --batch "$tmp/batch.jsonl" --queue \
        --outbox "$where" -q >/dev/null
    strace -f -w -c -o "$tmp/strace.deliver" "$bin/missive" deliver \
        --server "smtp://127.0.0.1:$port" --outbox "$where" --once -q
    printf '\nstrace, SQLite, 1 worker, %s messages (per message; ms are wall time in the call):\n' "$m"
    for phase in queue deliver; do
        awk -v m="$m" -v p="$phase" '$NF ~ /^(fdatasync|fsync|pwrite64|pread64|fcntl|sendto)$/ {
            printf "  %-8s %-10s %6.2f calls %8.3f ms\n", p, $NF, $4 / m, $2 * 1000 / m }' \
            "$tmp/strace.$phase"
    done
}

start_sink
make_messages
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
{
    echo "outbox bench: $(date -u +%FT%TZ), $(nproc) cores, load $load_before; $runs runs; M=$m"
} | tee "$out/outbox-report.txt" >&2
start_postgres
if [ "${ENQUEUE:-1}" != 0 ]; then
    pg_flag=()
    [ "$postgres_up" = 0 ] || pg_flag=(--postgres="$pg_base/missive")
    "$bin/outbox_enqueue" --runs="$runs" --small=500 --large=100 --dir="$tmp" "${pg_flag[@]}" |
        tee -a "$out/outbox-report.txt"
fi
start_postfix
echo "smtp-sink on $port, Postfix on $pf_port (held: $pf_hold); $workers workers" >&2
printf 'run\tsystem\tworkers\tmessages\tqueue_s\tdeliver_s\ttotal_s\tdeliver_cpu_s\n' \
    >"$out/outbox.tsv.head"
: >"$out/outbox.tsv"
for r in $(seq "$runs"); do
    for w in $workers; do
        missive_run sqlite "$w" "$r"
        if [ "$postgres_up" = 1 ] && [ "$pg_cli" = 1 ]; then missive_run postgres "$w" "$r"; fi
    done
    postfix_run "$r"
    echo "run $r of $runs done ($(date -u +%T))" >&2
done
{
    report
    printf '(load average before %s, after %s, on %s cores)\n' "$load_before" \
        "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
} | tee -a "$out/outbox-report.txt"
if [ "${STRACE:-0}" = 1 ]; then profile | tee -a "$out/outbox-report.txt"; fi
cat "$out/outbox.tsv.head" "$out/outbox.tsv" >"$out/outbox.tsv.new" && mv "$out/outbox.tsv.new" "$out/outbox.tsv"
rm -f "$out/outbox.tsv.head"
echo "figures: $out/outbox.tsv, report: $out/outbox-report.txt" >&2
