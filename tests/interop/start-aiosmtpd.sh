#!/usr/bin/env bash
# start-aiosmtpd.sh DIR: starts aiosmtpd_server.py (beside this script) with Debian's
# /usr/bin/python3 (only it has python3-aiosmtpd; a pyenv or venv python3 first in PATH does
# not) on free loopback ports, written to DIR/<name>.port:
#   aiosmtpd            STARTTLS, then AUTH PLAIN LOGIN (alice / Secret123), SMTPUTF8
#   aiosmtpd_implicit   TLS from the first byte
# Mail lands in DIR/aiosmtpd/mail/. The certificate is DIR/server.crt (start-postfix.sh).
set -euo pipefail
dir=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/scripts/lib.sh"
a=$dir/aiosmtpd
mkdir -p "$a"
cp "$dir/server.crt" "$dir/server.key" "$a/"
port=$(free_port "$dir")
implicit=$(free_port "$dir")
/usr/bin/python3 "$here/aiosmtpd_server.py" "$a" "$port" "$implicit" >"$a/stdout.log" 2>&1 &
echo $! >"$dir/aiosmtpd.pid"
echo "$port" >"$dir/aiosmtpd.port"
echo "$implicit" >"$dir/aiosmtpd_implicit.port"
wait_for_banner "$port" "$(cat "$dir/aiosmtpd.pid")" || { cat "$a/stdout.log" >&2; exit 1; }
sole_listener "$implicit"
