#!/usr/bin/env bash
# start-dovecot.sh DIR RELAY_PORT
# Starts a private Dovecot (config DIR/dovecot/dovecot.conf, no system file touched) with its
# submission service relaying to 127.0.0.1:RELAY_PORT (an smtp-sink), on free loopback ports:
#   dovecot_submission   STARTTLS (587 style)
#   dovecot_submissions  implicit TLS (465 style)
#   dovecot_lmtp         LMTP (and on the Unix socket DIR/dovecot/run/lmtp-missive)
# AUTH offers PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256 for two users:
#   alice / Secret123   and   bob@example.com / Secret-456
# Listens on 127.0.0.1 and 127.0.0.2: a client at 127.0.0.1 talking to 127.0.0.2 is not
# "secured" in Dovecot's eyes, so plain-text mechanisms are refused there before TLS.
# The certificate is DIR/server.crt from start-postfix.sh (signed by DIR/ca.crt); run that first.
set -euo pipefail
dir=$1 relay=$2
. "$(dirname "$0")/lib.sh"
d=$dir/dovecot
mkdir -p "$d/run" "$d/state" "$d/home"
chmod 755 "$dir" "$d"
chown nobody:nogroup "$d/home"
submission=$(free_port "$dir")
submissions=$(free_port "$dir")
lmtp=$(free_port "$dir")
cat >"$d/users" <<USERS
alice:{PLAIN}Secret123:65534:65534::$d/home/alice::
bob@example.com:{PLAIN}Secret-456:65534:65534::$d/home/bob::
USERS
cat >"$d/dovecot.conf" <<CONF
base_dir = $d/run
state_dir = $d/state
instance_name = missive-test-$submission
protocols = submission lmtp
listen = 127.0.0.1, 127.0.0.2
log_path = $d/dovecot.log
hostname = localhost
ssl = yes
ssl_cert = <$dir/server.crt
ssl_key = <$dir/server.key
auth_mechanisms = plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256
disable_plaintext_auth = yes
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = $d/users
}
userdb {
  driver = passwd-file
  args = $d/users
}
mail_location = maildir:~/Maildir
submission_relay_host = 127.0.0.1
submission_relay_port = $relay
service submission-login {
  inet_listener submission {
    port = $submission
  }
  inet_listener submissions {
    port = $submissions
    ssl = yes
  }
}
# No auth penalty (anvil): it would delay each repeated failure from 127.0.0.1 by seconds.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service lmtp {
  inet_listener lmtp {
    port = $lmtp
  }
  # LMTP on a Unix-domain socket too, as Dovecot's default set-up has it: DIR/dovecot/run/lmtp-missive
  unix_listener lmtp-missive {
    mode = 0666
  }
}
CONF
doveconf -c "$d/dovecot.conf" -n >/dev/null
dovecot -c "$d/dovecot.conf" -F >"$d/stdout.log" 2>&1 &
echo $! >"$dir/dovecot.pid"
echo "$submission" >"$dir/dovecot_submission.port"
echo "$submissions" >"$dir/dovecot_submissions.port"
echo "$lmtp" >"$dir/dovecot_lmtp.port"
wait_for_banner "$submission" "$(cat "$dir/dovecot.pid")"
sole_listener "$submissions"
sole_listener "$lmtp"
