#!/usr/bin/env bash
# setup.sh DIR: starts every server the integration tests use and writes DIR/env (KEY=VALUE),
# which the tests read through MISSIVE_TEST_ENV. Stop them with stop-servers.sh DIR.
set -euo pipefail
dir=$1
here=$(dirname "$0")
"$here/stop-servers.sh" "$dir"
rm -rf "$dir"
mkdir -p "$dir"
"$here/start-smtp-sink.sh" "$dir" sink
"$here/start-smtp-sink.sh" "$dir" sink_nopipe -p
"$here/start-smtp-sink.sh" "$dir" sink_lmtp -L
"$here/start-postfix.sh" "$dir"
"$here/start-proxies.sh" "$dir"
"$here/start-dovecot.sh" "$dir" "$(cat "$dir/sink.port")"
cat >"$dir/env" <<ENV
MISSIVE_TEST_SINK_PORT=$(cat "$dir/sink.port")
MISSIVE_TEST_SINK_NOPIPE_PORT=$(cat "$dir/sink_nopipe.port")
MISSIVE_TEST_LMTP_PORT=$(cat "$dir/sink_lmtp.port")
MISSIVE_TEST_POSTFIX_PORT=$(cat "$dir/postfix.port")
MISSIVE_TEST_POSTFIX_PLAIN_PORT=$(cat "$dir/postfix_plain.port")
MISSIVE_TEST_POSTFIX_IMPLICIT_PORT=$(cat "$dir/postfix_implicit.port")
MISSIVE_TEST_POSTFIX_EXPIRED_PORT=$(cat "$dir/postfix_expired.port")
MISSIVE_TEST_POSTFIX_WRONGNAME_PORT=$(cat "$dir/postfix_wrongname.port")
MISSIVE_TEST_POSTFIX_SELFSIGNED_PORT=$(cat "$dir/postfix_selfsigned.port")
MISSIVE_TEST_CA_FILE=$dir/ca.crt
MISSIVE_TEST_SOCKS_PORT=$(cat "$dir/socks.port")
MISSIVE_TEST_SOCKS_AUTH_PORT=$(cat "$dir/socks_auth.port")
MISSIVE_TEST_HTTP_PROXY_PORT=$(cat "$dir/http.port")
MISSIVE_TEST_HTTP_PROXY_AUTH_PORT=$(cat "$dir/http_auth.port")
MISSIVE_TEST_DOVECOT_PORT=$(cat "$dir/dovecot_submission.port")
MISSIVE_TEST_DOVECOT_IMPLICIT_PORT=$(cat "$dir/dovecot_submissions.port")
MISSIVE_TEST_DOVECOT_LMTP_PORT=$(cat "$dir/dovecot_lmtp.port")
MISSIVE_TEST_DIR=$dir
ENV
cat "$dir/env"
