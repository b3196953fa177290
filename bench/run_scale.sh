#!/usr/bin/env bash
# Speed at scale, in one sitting: a private smtp-sink and a STARTTLS sink (aiosmtpd, a CA made
# here), then, RUNS times, every scenario with every client, round-robin (so that noise hits
# all alike):
#   scenarios  1 KB x 1 connection, 1 KB x 8 connections, 100 KB x 1 connection,
#              1 KB x 100 recipients x 1 connection, STARTTLS 1 KB x 1 connection
#   clients    missive blocking Client, Client::send_all, AsyncClient::async_send_all, Pool
#              (when the build has it), Postfix's smtp-source (-d: one connection for all its
#              messages), and bench/raw_writer.cpp (plain sockets, one round trip per message:
#              the ceiling). smtp-source and raw_writer speak no TLS: the STARTTLS row is
#              missive's alone.
# Every client is measured from outside by one ruler (process start to exit, connecting
# included; CPU = user + sys of the process, every thread). Prints the medians and the goals
# of the "speed at scale" issue (PASS/MISS), then the memory of send_all (max RSS, 10k vs 100k
# messages of 1 KB, one message of 1 MB vs 1 GB read from a file made in /tmp), writes every
# figure to build/bench/scale.tsv and the medians to build/bench/scale-medians.tsv, and draws
# docs/bench/scale.png (gnuplot).
# Usage: bench/run_scale.sh [RUNS=3]   (after building the targets scale and raw_writer)
#   CALLGRIND=1  also: instructions per message, send_all on 1 connection, callgrind over 600
#                and 100 messages of 1 KB, the difference / 500
#   MEMORY=0     skips the memory figures (the 1 GB message)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
. tests/integration/scripts/lib.sh
PATH=$PATH:/usr/sbin
bin=build/release
out=build/bench
mkdir -p "$out" docs/bench
tmp=$(mktemp -d /tmp/missive-scale.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do { kill "$p" && wait "$p"; } 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# Counts per scenario: a second or more for the fast clients, whose start and connect then
# weigh under 1%.
n_small=20000 n_conns=30000 n_large=1000 n_rcpts=1000 n_tls=2000
clients="blocking send_all async pool smtp-source raw"
scenarios="1KBx1 1KBx8conns 100KBx1 1KBx100rcpts starttls_1KBx1"

start_sinks() {
    port=$(free_port "$tmp")
    tls_port=$(free_port "$tmp")
    smtp-sink -u nobody "127.0.0.1:$port" 1000 &
    pids+=($!)
    wait_for_banner "$port" "$!"
    (
        cd "$tmp"
        openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=bench CA" \
            -keyout ca.key -out ca.crt 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key \
            -out server.csr 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >san.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
            -extfile san.ext -out server.crt 2>/dev/null
    )
    /usr/bin/python3 bench/starttls_sink.py "$tls_port" "$tmp/server.crt" "$tmp/server.key" &
    pids+=($!)
    wait_for_banner "$tls_port" "$!"
}

# measure COUNT CMD...: runs CMD, prints "msg/s CPU-ms-per-message max-RSS-KiB". The wall
# clock and the CPU (wait4) are Python's; the max RSS is GNU time's, since a child forked from
# Python starts with Python's RSS as its maximum, and keeps it through exec.
measure() {
    python3 - "$@" <<'PY'
import os, subprocess, sys, tempfile, time
n = int(sys.argv[1])
with tempfile.NamedTemporaryFile("r") as rss:
    start = time.perf_counter()
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss.name] + sys.argv[2:],
                         stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    took = time.perf_counter() - start
    p.returncode = 0
    if status:
        sys.exit(f"{sys.argv[2]} failed (wait status {status})")
    print(f"{n / took:.6g} {(ru.ru_utime + ru.ru_stime) * 1000 / n:.4f} {rss.read().split()[-1]}")
PY
}

has_pool() { [[ $("$bin/scale" 2>&1 || true) == *"|pool"* ]]; }  # its usage lists its modes

# run_one SCENARIO CLIENT: one measurement, or nothing when the client cannot do it.
run_one() {
    local n size=1024 rcpts=1 conns=1 host=127.0.0.1 p=$port tls=()
    case $1 in
        1KBx1) n=$n_small ;;
        1KBx8conns) n=$n_conns conns=8 ;;
        100KBx1) n=$n_large size=102400 ;;
        1KBx100rcpts) n=$n_rcpts rcpts=100 ;;
        starttls_1KBx1) n=$n_tls p=$tls_port tls=(--starttls="$tmp/ca.crt") ;;
    esac
    case $2 in
        blocking | send_all | async | pool)
            [ "$2" != pool ] || has_pool || return 0
            measure "$n" "$bin/scale" "$2" "$host" "$p" "$n" "$size" "$rcpts" "$conns" "${tls[@]}"
            ;;
        smtp-source)
            [ ${#tls[@]} -eq 0 ] || return 0
            # -l is its payload; its own header (From, To, Date, Message-Id) adds about 150
            # octets, so it sends a little more than the others do.
            measure "$n" smtp-source -d -s "$conns" -m "$n" -l "$size" -r "$rcpts" \
                -f alice@example.org -t bob@example.org -M bench.missive.test "$host:$p"
            ;;
        raw)
            [ ${#tls[@]} -eq 0 ] || return 0
            measure "$n" "$bin/raw_writer" "$host" "$p" "$n" "$size" "$rcpts" "$conns"
            ;;
    esac
}

# median_of SCENARIO CLIENT COLUMN (3 msg/s, 4 CPU ms, 5 RSS): from the TSV, "-" when none.
median_of() {
    awk -F'\t' -v s="$1" -v c="$2" -v k="$3" '$1 == s && $2 == c {print $k}' "$out/scale.tsv" |
        sort -g | awk '{a[NR] = $1} END {print NR ? a[int((NR + 1) / 2)] : "-"}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print (a == "-" || b == "-" || b == 0) ? "-" : sprintf("%.2f", a / b)}'; }

# goal LABEL VALUE TARGET OP: prints a goal line with PASS or MISS.
goal() {
    local verdict
    verdict=$(awk -v v="$2" -v t="$3" -v op="$4" 'BEGIN {
        if (v == "-") print "n/a"; else print ((op == ">=" ? v >= t : v <= t) ? "PASS" : "MISS") }')
    printf '  %-58s %6s  (goal %s %s)  %s\n' "$1" "$2" "$4" "$3" "$verdict"
}

# best SCENARIO COLUMN max|min: the missive client with the best median, as "client value".
best() {
    local c v pick="" val=""
    for c in blocking send_all async pool; do
        v=$(median_of "$1" "$c" "$2")
        [ "$v" != "-" ] || continue
        if [ -z "$val" ] || awk -v a="$v" -v b="$val" -v m="$3" 'BEGIN {exit !(m == "max" ? a > b : a < b)}'; then
            pick=$c val=$v
        fi
    done
    echo "${pick:--} ${val:--}"
}

throughput() {
    printf 'scenario\tclient\tmsg_per_s\tcpu_ms_per_msg\tmax_rss_kib\trun\n' >"$out/scale.tsv.head"
    : >"$out/scale.tsv"
    local r s c line
    for r in $(seq "$runs"); do
        for s in $scenarios; do
            for c in $clients; do
                line=$(run_one "$s" "$c") || { echo "$s $c failed: left out" >&2; line=; }
                [ -z "$line" ] || printf '%s\t%s\t%s\t%s\n' "$s" "$c" "${line// /$'\t'}" "$r" >>"$out/scale.tsv"
            done
        done
        echo "run $r of $runs done" >&2
    done
}

report() {
    local s c
    printf '\nmessages/s, median of %s runs (client CPU ms per message below each)\n' "$runs"
    printf '%-16s' scenario
    for c in $clients; do printf '%12s' "$c"; done
    printf '\n'
    printf 'scenario' >"$out/scale-medians.tsv"
    for c in $clients; do printf '\t%s' "$c" >>"$out/scale-medians.tsv"; done
    printf '\n' >>"$out/scale-medians.tsv"
    for s in $scenarios; do
        printf '%-16s' "$s"
        printf '%s' "$s" >>"$out/scale-medians.tsv"
        for c in $clients; do
            printf '%12.12s' "$(median_of "$s" "$c" 3)"
            printf '\t%s' "$(median_of "$s" "$c" 3)" >>"$out/scale-medians.tsv"
        done
        printf '\n%-16s' "  CPU ms/msg"
        for c in $clients; do printf '%12.12s' "$(median_of "$s" "$c" 4)"; done
        printf '\n'
        printf '\n' >>"$out/scale-medians.tsv"
    done
    printf '\ngoals (the best missive client of each row, named):\n'
    local b
    b=($(best 1KBx1 3 max))
    goal "1 KB, 1 conn: ${b[0]} / raw writer" "$(ratio "${b[1]}" "$(median_of 1KBx1 raw 3)")" 0.8 ">="
    b=($(best 1KBx8conns 3 max))
    goal "1 KB, 8 conns: ${b[0]} / smtp-source" "$(ratio "${b[1]}" "$(median_of 1KBx8conns smtp-source 3)")" 1.5 ">="
    b=($(best 1KBx100rcpts 3 max))
    goal "1 KB x 100 rcpts: ${b[0]} / raw writer" "$(ratio "${b[1]}" "$(median_of 1KBx100rcpts raw 3)")" 0.8 ">="
    b=($(best 1KBx1 4 min))
    goal "CPU per 1 KB message, 1 conn: ${b[0]} / smtp-source" "$(ratio "${b[1]}" "$(median_of 1KBx1 smtp-source 4)")" 0.5 "<="
    printf '  (other ratios: 100 KB, 1 conn: best %s / raw %s; send_all / smtp-source at 1 KB, 1 conn: %s)\n' \
        "$(best 100KBx1 3 max)" "$(median_of 100KBx1 raw 3)" \
        "$(ratio "$(median_of 1KBx1 send_all 3)" "$(median_of 1KBx1 smtp-source 3)")"
}

chart() {
    command -v gnuplot >/dev/null || { echo "no gnuplot: no chart (apt-get install gnuplot-nox)" >&2; return 0; }
    [ "$runs" -gt 0 ] || return 0
    gnuplot <<EOF || echo "gnuplot failed: no chart" >&2
set terminal pngcairo size 900,480 font "sans,10" noenhanced
set output "docs/bench/scale.png"
set title "missive, speed at scale: messages/s, median of $runs runs (log scale; one sitting, 2-core VM)"
set datafile separator "\t"
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set yrange [10:*]
set grid ytics
set key top right
set xtics nomirror
plot for [i=2:7] "$out/scale-medians.tsv" using i:xtic(1) title columnheader(i)
EOF
    echo "chart: docs/bench/scale.png"
}

memory() {
    local a b big="$tmp/big.eml" mb="$tmp/one_mb.eml"
    printf '\nmemory of send_all (max RSS of the process):\n'
    a=$(measure 10000 "$bin/scale" send_all 127.0.0.1 "$port" 10000 1024)
    b=$(measure 100000 "$bin/scale" send_all 127.0.0.1 "$port" 100000 1024)
    a=${a##* } b=${b##* }
    goal "10k vs 100k messages of 1 KB: $a vs $b KiB, ratio" "$(ratio "$b" "$a")" 1.1 "<="
    crlf_lines() { yes $'The quick brown fox jumps over the lazy dog.\r'; }
    { printf 'Subject: big\r\n\r\n'; head -c $((1 << 20)) < <(crlf_lines); } >"$mb"
    local t0=$SECONDS
    { printf 'Subject: big\r\n\r\n'; head -c $((1 << 30)) < <(crlf_lines); } >"$big"
    local made=$((SECONDS - t0))
    a=$(measure 1 "$bin/scale" send_all 127.0.0.1 "$port" 1 0 --file="$mb")
    b=$(measure 1 "$bin/scale" send_all 127.0.0.1 "$port" 1 0 --file="$big")
    rm -f "$big" "$mb"
    printf '  the 1 GiB message took %.1f s to send (%s s to write the file)\n' \
        "$(awk -v r="${b%% *}" 'BEGIN {print 1 / r}')" "$made"
    a=${a##* } b=${b##* }
    goal "1 MiB vs 1 GiB message from a file: $a vs $b KiB, ratio" "$(ratio "$b" "$a")" 1.1 "<="
}

# instructions N: callgrind's total for send_all of N 1 KB messages on one connection.
instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1" \
        "$bin/scale" send_all 127.0.0.1 "$port" "$1" 1024 >/dev/null 2>&1
    awk '/^(summary|totals):/ {print $2; exit}' "$tmp/cg.$1"
}

start_sinks
echo "smtp-sink on $port, STARTTLS sink on $tls_port; $runs runs; $(nproc) cores" >&2
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
throughput
{
    report
    printf '(load average before %s, after %s, on %s cores)\n' "$load_before" \
        "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
} | tee "$out/scale-report.txt"
chart
if [ "${MEMORY:-1}" != 0 ]; then memory | tee -a "$out/scale-report.txt"; fi
if [ "${CALLGRIND:-0}" = 1 ]; then
    i100=$(instructions 100) i600=$(instructions 600)
    printf '\ninstructions per 1 KB message, send_all, 1 connection (callgrind, (600 - 100) / 500): %s\n' \
        "$(( (i600 - i100) / 500 ))" | tee -a "$out/scale-report.txt"
fi
cat "$out/scale.tsv.head" "$out/scale.tsv" >"$out/scale.tsv.new" && mv "$out/scale.tsv.new" "$out/scale.tsv"
rm -f "$out/scale.tsv.head"
echo "figures: $out/scale.tsv, medians: $out/scale-medians.tsv" >&2
