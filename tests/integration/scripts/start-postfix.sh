#!/usr/bin/env bash
# start-postfix.sh DIR
# Starts a private Postfix instance (config in DIR/pf, queue in DIR/pfqueue) with smtpd
# listeners on free loopback ports, each written to DIR/<name>.port:
#   postfix            as Postfix offers it (PIPELINING, CHUNKING, SIZE, DSN, SMTPUTF8, STARTTLS)
#   postfix_plain      without PIPELINING and CHUNKING
#   postfix_implicit   TLS from the first byte (port 465 style)
#   postfix_expired    STARTTLS with an expired certificate
#   postfix_wrongname  STARTTLS with a certificate for wrong.example
#   postfix_selfsigned STARTTLS with a self-signed certificate
# A test CA (DIR/ca.crt) signs the good, expired and wrong-name certificates, all made here with
# the openssl command. Mail is delivered by the virtual agent to the Maildir DIR/mail/inbox/.
# rej@example.com is refused with 550 5.1.1, tmp@example.com with 450 4.2.0.
set -euo pipefail
dir=$1
. "$(dirname "$0")/lib.sh"
PATH=$PATH:/usr/sbin
mkdir -p "$dir/pf" "$dir/pfqueue" "$dir/mail"
chmod 755 "$dir"  # Postfix drops privileges and must reach its files
chown nobody:nogroup "$dir/mail"

# signed NAME CN SAN DAYS: a key and a certificate signed by the test CA (DAYS -1: expired).
signed() {
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$4" \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    chmod 644 "$1.key"
}
if [ ! -f "$dir/server.crt" ]; then
    (
        cd "$dir"
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=missive test CA" \
            -keyout ca.key -out ca.crt 2>/dev/null
        signed server localhost DNS:localhost,IP:127.0.0.1 3650
        signed expired localhost DNS:localhost,IP:127.0.0.1 -1
        signed wrongname wrong.example DNS:wrong.example 3650
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
            -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
            -keyout selfsigned.key -out selfsigned.crt 2>/dev/null
        chmod 644 selfsigned.key
    )
fi

names="postfix postfix_plain postfix_implicit postfix_expired postfix_wrongname postfix_selfsigned"
declare -A ports
for name in $names; do
    ports[$name]=$(free_port "$dir")
done
port=${ports[postfix]}
plain=${ports[postfix_plain]}

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
smtpd_tls_CAfile = $dir/ca.crt
smtpd_tls_ask_ccert = yes
smtpd_tls_received_header = yes
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
127.0.0.1:${ports[postfix_implicit]} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
127.0.0.1:${ports[postfix_expired]} inet n - n - - smtpd
  -o smtpd_tls_cert_file=$dir/expired.crt -o smtpd_tls_key_file=$dir/expired.key
127.0.0.1:${ports[postfix_wrongname]} inet n - n - - smtpd
  -o smtpd_tls_cert_file=$dir/wrongname.crt -o smtpd_tls_key_file=$dir/wrongname.key
127.0.0.1:${ports[postfix_selfsigned]} inet n - n - - smtpd
  -o smtpd_tls_cert_file=$dir/selfsigned.crt -o smtpd_tls_key_file=$dir/selfsigned.key
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
for name in $names; do
    echo "${ports[$name]}" >"$dir/$name.port"
done
wait_for_banner "$port"
wait_for_banner "$plain"
for name in $names; do
    sole_listener "${ports[$name]}"
done
