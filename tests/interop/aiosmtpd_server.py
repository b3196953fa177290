"""aiosmtpd_server.py DIR PORT IMPLICIT_PORT: Python's aiosmtpd (Debian's python3-aiosmtpd) on
127.0.0.1:PORT (STARTTLS, then AUTH PLAIN/LOGIN for alice / Secret123) and IMPLICIT_PORT (TLS
from the first byte). Each message is stored before the 250 goes out, as DIR/mail/<ns>-<n>.eml
(the bytes as received: CRLF, dot-unstuffed, nothing added) and .json (the envelope: MAIL and
RCPT parameters, TLS, the login). rej@example.com is refused at RCPT with 550 5.1.1.
The certificate is DIR/server.crt and DIR/server.key. Stops on SIGTERM."""
import json
import logging
import os
import signal
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

DIR, PORT, IMPLICIT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
logging.getLogger("mail.log").setLevel(logging.ERROR)  # "Session.login_data is deprecated"
os.makedirs(f"{DIR}/mail", exist_ok=True)


class Handler:
    n = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() == "rej@example.com":
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.append(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, env):
        Handler.n += 1
        base = f"{DIR}/mail/{time.time_ns()}-{Handler.n}"
        meta = dict(mail_from=env.mail_from, rcpt_tos=env.rcpt_tos, mail_options=env.mail_options,
                    rcpt_options=env.rcpt_options, smtp_utf8=env.smtp_utf8, helo=session.host_name,
                    # session.ssl is set by STARTTLS only; implicit TLS shows on the transport
                    tls=session.ssl is not None or
                    server.transport.get_extra_info("ssl_object") is not None,
                    auth=bool(session.authenticated) and session.auth_data.login.decode())
        with open(base + ".tmp", "wb") as f:
            f.write(env.original_content)
        with open(base + ".json", "w") as f:
            json.dump(meta, f, ensure_ascii=False)
        os.rename(base + ".tmp", base + ".eml")  # the .eml appears last, complete
        return "250 2.0.0 Ok: queued"


def auth(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"alice", b"Secret123")
    return AuthResult(success=ok, handled=False, auth_data=data)


ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(f"{DIR}/server.crt", f"{DIR}/server.key")
common = dict(server_hostname="aiosmtpd.test", authenticator=auth, auth_require_tls=True,
              enable_SMTPUTF8=True, decode_data=False, data_size_limit=30 * 1024 * 1024)
controllers = [
    Controller(Handler(), hostname="127.0.0.1", port=PORT, tls_context=ctx, **common),
    Controller(Handler(), hostname="127.0.0.1", port=IMPLICIT, ssl_context=ctx, **common),
]
for c in controllers:
    c.start()
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
try:
    signal.pause()
finally:
    for c in controllers:
        c.stop()
