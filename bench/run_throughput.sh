#!/usr/bin/env bash
# Runs the end-to-end throughput benchmark against a private smtp-sink (no dump to disk):
# missive pipelined (blocking Client and AsyncClient), missive without pipelining, and Python's
# smtplib as the reference, each
# RUNS times in the same sitting; prints the medians and the ratios to smtplib.
# Usage: bench/run_throughput.sh [N=2000] [SIZE=2048] [RUNS=5]   (after a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000} size=${2:-2048} runs=${3:-5}
. tests/integration/scripts/lib.sh
PATH=$PATH:/usr/sbin
port=$(free_port)
smtp-sink -u nobody "127.0.0.1:$port" 1000 &
sink=$!
trap 'kill $sink' EXIT
wait_for_banner "$port"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { for _ in $(seq "$runs"); do "$@"; done | median; }
bin=build/release/throughput
pipe=$(measure "$bin" 127.0.0.1 "$port" "$n" "$size")
async=$(measure "$bin" 127.0.0.1 "$port" "$n" "$size" async)
nopipe=$(measure "$bin" 127.0.0.1 "$port" "$n" "$size" nopipe)
ref=$(measure python3 bench/throughput_smtplib.py 127.0.0.1 "$port" "$n" "$size")
printf 'messages/s (median of %s runs, %s messages of %s octets, one connection)\n' "$runs" "$n" "$size"
printf '  missive, pipelined      %10.0f  (%.2fx smtplib)\n' "$pipe" "$(awk -v a="$pipe" -v b="$ref" 'BEGIN{print a/b}')"
printf '  missive AsyncClient     %10.0f  (%.2fx smtplib, %.2fx blocking)\n' "$async" "$(awk -v a="$async" -v b="$ref" 'BEGIN{print a/b}')" "$(awk -v a="$async" -v b="$pipe" 'BEGIN{print a/b}')"
printf '  missive, no pipelining  %10.0f  (%.2fx smtplib)\n' "$nopipe" "$(awk -v a="$nopipe" -v b="$ref" 'BEGIN{print a/b}')"
printf '  Python smtplib          %10.0f\n' "$ref"
