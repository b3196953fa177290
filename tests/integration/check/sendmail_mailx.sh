#!/usr/bin/env bash
# sendmail_mailx.sh MISSIVE DIR
# A real mail program, bsd-mailx, sends through missive installed as its sendmail (a symlink
# named "sendmail", so missive runs in sendmail mode by its name; mailx calls `sendmail -i -t`)
# to the Postfix that setup.sh started in DIR. The message must arrive for the To and the Bcc
# recipient, without a Bcc field, with a From that missive added, and parse cleanly in Python.
set -euo pipefail
bin=$1 dir=$2
. "$dir/env"
command -v mail >/dev/null || { echo "bsd-mailx is not installed"; exit 1; }
work=$(mktemp -d /tmp/missive-mailx.XXXXXX)
trap 'rm -rf "$work"' EXIT
ln -s "$bin" "$work/sendmail"
echo "set sendmail=$work/sendmail" >"$work/mailrc"
token="mailx-$$-$RANDOM"
echo "hello from mailx $token" |
    env -u MISSIVE_PASSWORD MAILRC="$work/mailrc" HOME="$work" XDG_CONFIG_HOME="$work" \
        MISSIVE_SERVER="smtp://127.0.0.1:$MISSIVE_TEST_POSTFIX_PORT?ca=$MISSIVE_TEST_CA_FILE" \
        mail -s "mailx $token" -b carol@example.com bob@example.com
files=()
for _ in $(seq 1 100); do
    mapfile -t files < <(grep -rl "$token" "$MISSIVE_TEST_DIR/mail" || true)
    [ "${#files[@]}" -ge 2 ] && break
    sleep 0.1
done
[ "${#files[@]}" -eq 2 ] || { echo "expected 2 deliveries of $token, found ${#files[@]}"; exit 1; }
for f in "${files[@]}"; do
    python3 - "$f" "$token" <<'PY'
import email, email.policy, sys
path, token = sys.argv[1], sys.argv[2]
msg = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
problems = []
if "Bcc" in msg:
    problems.append("a Bcc field arrived")
if str(msg["Subject"]) != f"mailx {token}":
    problems.append(f"Subject {msg['Subject']!r}")
if not msg["From"] or not msg["From"].addresses:
    problems.append("no From")
if not msg["Message-ID"] or not msg["Date"]:
    problems.append("no Message-ID or Date")
if msg.get_content().strip() != f"hello from mailx {token}":
    problems.append(f"body {msg.get_content()!r}")
if msg.defects:
    problems.append(f"defects {msg.defects}")
for p in problems:
    print(f"{path}: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
done
echo "bsd-mailx -> missive (as sendmail) -> Postfix: delivered to bob and carol, no Bcc"
