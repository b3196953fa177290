#!/usr/bin/env bash
# start-exim.sh DIR PKG [DOVECOT_AUTH_SOCKET]: starts Exim 4 from Debian's unpacked exim4-daemon-heavy (PKG, from
# fetch-deb.sh; never installed) as a foreground daemon with a private configuration, spool,
# log and Maildir under DIR/exim, on free loopback ports written to DIR/<name>.port:
#   exim            STARTTLS, AUTH PLAIN LOGIN CRAM-MD5 (alice / Secret123), DSN, SMTPUTF8;
#                   with DOVECOT_AUTH_SOCKET also SCRAM-SHA-1 and SCRAM-SHA-256 through
#                   Dovecot's auth service (Exim's dovecot authenticator)
#   exim_implicit   TLS from the first byte (tls_on_connect_ports)
# Every recipient is delivered to the Maildir DIR/exim/Maildir but rej@example.com, refused at
# RCPT with 550. The certificate is DIR/server.crt from start-postfix.sh (run that first).
set -euo pipefail
dir=$1 pkg=$2 dovecot_auth=${3:-}
. "$(dirname "$0")/../integration/scripts/lib.sh"
e=$dir/exim
exim=$pkg/usr/sbin/exim4
# The compiled-in exim user must exist, even though the configuration could name another.
id -u Debian-exim >/dev/null 2>&1 ||
    useradd -r -U -M -d /nonexistent -s /usr/sbin/nologin Debian-exim
mkdir -p "$e/spool" "$e/log" "$e/Maildir"
chmod 755 "$dir" "$e"
chown Debian-exim: "$e/spool" "$e/log" "$e/Maildir"
# After binding its ports the daemon is Debian-exim for good: it must read the key.
cp "$dir/server.key" "$e/server.key"
chgrp Debian-exim "$e/server.key"
chmod 640 "$e/server.key"
port=$(free_port "$dir")
implicit=$(free_port "$dir")
# Root-owned and not writable by others, or Exim refuses it.
cat >"$e/exim.conf" <<CONF
primary_hostname = exim.test.local
exim_path = $exim
spool_directory = $e/spool
log_file_path = $e/log/%slog
pid_file_path = $e/exim.pid
local_interfaces = 127.0.0.1
daemon_smtp_ports = $port : $implicit
tls_on_connect_ports = $implicit
keep_environment =
deliver_drop_privilege = true
tls_certificate = $dir/server.crt
tls_privatekey = $e/server.key
message_size_limit = 30M
dsn_advertise_hosts = *
daemon_startup_retries = 0
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  deny recipients = rej@example.com
       message = no such user
  accept
begin routers
all:
  driver = accept
  transport = maildir
begin transports
maildir:
  driver = appendfile
  directory = $e/Maildir
  maildir_format
  envelope_to_add
  return_path_add
begin retry
* * F,1h,1m
begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and {{eq{\$auth2}{alice}}{eq{\$auth3}{Secret123}}}}
  server_set_id = \$auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = \${if and {{eq{\$auth1}{alice}}{eq{\$auth2}{Secret123}}}}
  server_set_id = \$auth1
cram:
  driver = cram_md5
  public_name = CRAM-MD5
  server_secret = \${if eq{\$auth1}{alice}{Secret123}fail}
  server_set_id = \$auth1
CONF
if [ -n "$dovecot_auth" ]; then
    for mech in SCRAM-SHA-1 SCRAM-SHA-256; do
        cat >>"$e/exim.conf" <<CONF
$(echo "$mech" | tr 'A-Z-' 'a-z_'):
  driver = dovecot
  public_name = $mech
  server_socket = $dovecot_auth
  server_set_id = \$auth1
CONF
    done
fi
chmod 644 "$e/exim.conf"
"$exim" -C "$e/exim.conf" -bV >"$e/bV.log" 2>&1 || { cat "$e/bV.log" >&2; exit 1; }
# -bdf: daemon in the foreground, so $! is the daemon itself.
"$exim" -C "$e/exim.conf" -bdf >"$e/stdout.log" 2>&1 &
echo $! >"$dir/exim.pid"
echo "$port" >"$dir/exim.port"
echo "$implicit" >"$dir/exim_implicit.port"
wait_for_banner "$port" "$(cat "$dir/exim.pid")" || { cat "$e/stdout.log" "$e/log/"* >&2; exit 1; }
sole_listener "$implicit"
