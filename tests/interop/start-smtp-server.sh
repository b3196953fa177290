#!/usr/bin/env bash
# start-smtp-server.sh DIR CACHE: starts Nodemailer's smtp-server (smtp_server.js beside this
# script) with the machine's node on free loopback ports, written to DIR/<name>.port:
#   smtp_server            STARTTLS, then AUTH PLAIN LOGIN CRAM-MD5 (alice / Secret123),
#                          DSN, SMTPUTF8
#   smtp_server_implicit   TLS from the first byte
#   smtp_server_lmtp       LMTP (STARTTLS, no AUTH), a reply per recipient after the data
# The npm packages are those of package-lock.json beside this script, installed once with
# `npm ci` into CACHE/node (again when the lock file changes). Mail lands in DIR/smtp_server/mail/.
# The certificate is DIR/server.crt (start-postfix.sh).
set -euo pipefail
dir=$1 cache=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/scripts/lib.sh"
nd=$cache/node
mkdir -p "$nd"
if ! cmp -s "$here/package-lock.json" "$nd/package-lock.json" || [ ! -d "$nd/node_modules/smtp-server" ]; then
    cp "$here/package.json" "$here/package-lock.json" "$nd/"
    (cd "$nd" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
cp "$here/smtp_server.js" "$nd/"
s=$dir/smtp_server
mkdir -p "$s"
cp "$dir/server.crt" "$dir/server.key" "$s/"
port=$(free_port "$dir")
implicit=$(free_port "$dir")
lmtp=$(free_port "$dir")
node "$nd/smtp_server.js" "$s" "$port" "$implicit" "$lmtp" >"$s/stdout.log" 2>&1 &
echo $! >"$dir/smtp_server.pid"
echo "$port" >"$dir/smtp_server.port"
echo "$implicit" >"$dir/smtp_server_implicit.port"
echo "$lmtp" >"$dir/smtp_server_lmtp.port"
wait_for_banner "$port" "$(cat "$dir/smtp_server.pid")" || { cat "$s/stdout.log" >&2; exit 1; }
sole_listener "$implicit"
wait_for_banner "$lmtp" "$(cat "$dir/smtp_server.pid")"
