#!/usr/bin/env bash
# start-postfix.sh DIR
# Starts a private Postfix instance (config in DIR/pf, queue in DIR/pfqueue) with two smtpd
# listeners on free loopback ports: one as Postfix offers it (PIPELINING, CHUNKING, SIZE, DSN,
# SMTPUTF8 …) and one without PIPELINING and CHUNKING. Mail is delivered by the virtual agent to
# the Maildir DIR/mail/inbox/. rej@example.com is refused with 550 5.1.1, tmp@example.com with
# 450 4.2.0. A test CA and server certificate are made in DIR (for STARTTLS).
# Writes DIR/postfix.port, DIR/postfix_plain.port.
set -euo pipefail
dir=$1
. "$(dirname "$0")/lib.sh"
PATH=$PATH:/usr/sbin
mkdir -p "$dir/pf" "$dir/pfqueue" "$dir/mail"
chmod 755 "$dir"  # Postfix drops privileges and must reach its files
chown nobody:nogroup "$dir/mail"

if [ ! -f "$dir/server.crt" ]; then
    (
        cd "$dir"
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=missive test CA" \
            -keyout ca.key -out ca.crt 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key \
            -out server.csr 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >san.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
            -extfile san.ext -out server.crt 2>/dev/null
        chmod 644 server.key
    )
fi

port=$(free_port)
plain=$(free_port)
while [ "$plain" = "$port" ]; do plain=$(free_port); done

cat >"$dir/pf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/pfqueue
data_directory = $dir/pfdata
maillog_file = $dir/postfix.log
maillog_file_prefixes = $dir
myhostname = mail.test.local
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
alias_maps =
alias_database =
local_header_rewrite_clients =
smtpd_tls_cert_file = $dir/server.crt
smtpd_tls_key_file = $dir/server.key
smtpd_tls_security_level = may
smtpd_recipient_restrictions = check_recipient_access inline:{ {rej@example.com = 550 5.1.1 no such user}, {tmp@example.com = 450 4.2.0 try later} }, permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = static:ALL
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
CF

# Debian's stock service lines, without chroot (a chroot would need a populated jail).
cat >"$dir/pf/master.cf" <<CF
127.0.0.1:$port inet n - n - - smtpd
127.0.0.1:$plain inet n - n - - smtpd
  -o smtpd_discard_ehlo_keywords=chunking,pipelining
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
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF

postfix -c "$dir/pf" check
postfix -c "$dir/pf" start >/dev/null 2>&1 || {
    echo "postfix did not start; its log:" >&2
    cat "$dir/postfix.log" >&2 || true
    exit 1
}
echo "$port" >"$dir/postfix.port"
echo "$plain" >"$dir/postfix_plain.port"
wait_for_banner "$port"
wait_for_banner "$plain"
