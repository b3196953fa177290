#!/usr/bin/env bash
# start-opensmtpd.sh DIR PKG: starts OpenSMTPD from Debian's unpacked opensmtpd (PKG, from
# fetch-deb.sh; never installed) in the foreground with a private configuration, on free
# loopback ports written to DIR/<name>.port:
#   opensmtpd           STARTTLS, then AUTH PLAIN LOGIN (alice / Secret123); DSN
#   opensmtpd_implicit  TLS from the first byte (smtps)
# Every recipient goes to the Maildir DIR/opensmtpd/Maildir but rej@example.com, refused at RCPT.
# Its spool, socket, pid file and helpers are compiled in (/var/spool/smtpd, /var/run,
# /usr/libexec/opensmtpd): smtpd runs in a private mount namespace where DIR/opensmtpd/var is
# bound over /var and the package's usr/libexec over /usr/libexec, seen by smtpd alone.
# Debian 12's build cannot do server TLS with OpenSSL 3: rsaexfix.so (rsaexfix.c beside this
# script, built here) is preloaded to fix it. DIR must not lie under /var.
# The certificate is DIR/server.crt from start-postfix.sh (run that first).
set -euo pipefail
dir=$1 pkg=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/scripts/lib.sh"
o=$dir/opensmtpd
case "$(cd "$dir" && pwd)/" in /var/*) echo "start-opensmtpd.sh: DIR must not lie under /var" >&2; exit 1 ;; esac
# Debian's privilege-separation users (upstream's are _smtpd and _smtpq).
for u in opensmtpd opensmtpq; do
    id -u "$u" >/dev/null 2>&1 || useradd -r -U -M -d /nonexistent -s /usr/sbin/nologin "$u"
done
mkdir -p "$o/var/spool" "$o/var/run" "$o/var/lib/opensmtpd/empty" "$o/Maildir"
chmod 755 "$dir" "$o"
chown nobody:nogroup "$o/Maildir"
# smtpd refuses a key that others can read (start-postfix.sh makes it 0644).
install -m 600 "$dir/server.key" "$o/server.key"
gcc -shared -fPIC -o "$o/rsaexfix.so" "$here/rsaexfix.c" -ldl
echo "alice $("$pkg/usr/libexec/opensmtpd/encrypt" Secret123)" >"$o/creds"
echo '@ nobody' >"$o/vusers"
port=$(free_port "$dir")
implicit=$(free_port "$dir")
cat >"$o/smtpd.conf" <<CONF
smtp max-message-size 30M
pki localhost cert "$dir/server.crt"
pki localhost key "$o/server.key"
table creds file:$o/creds
table vusers file:$o/vusers
listen on 127.0.0.1 port $port tls pki localhost auth-optional <creds> hostname localhost
listen on 127.0.0.1 port $implicit smtps pki localhost auth-optional <creds> hostname localhost
action "deliver" maildir "$o/Maildir" virtual <vusers>
match from any for rcpt-to "rej@example.com" reject
match from any for any action "deliver"
CONF
"$pkg/usr/sbin/smtpd" -f "$o/smtpd.conf" -n >"$o/check.log" 2>&1 || { cat "$o/check.log" >&2; exit 1; }
# exec: $! is smtpd itself (-d: foreground, log to stderr).
LD_PRELOAD=$o/rsaexfix.so unshare -m sh -c "mount --bind '$o/var' /var &&
    mount --bind '$pkg/usr/libexec' /usr/libexec &&
    exec '$pkg/usr/sbin/smtpd' -f '$o/smtpd.conf' -d" >"$o/smtpd.log" 2>&1 &
echo $! >"$dir/opensmtpd.pid"
echo "$port" >"$dir/opensmtpd.port"
echo "$implicit" >"$dir/opensmtpd_implicit.port"
wait_for_banner "$port" "$(cat "$dir/opensmtpd.pid")" || { cat "$o/smtpd.log" >&2; exit 1; }
sole_listener "$implicit"
